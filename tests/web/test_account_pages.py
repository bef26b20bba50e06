"""``/account`` (profile, password, sessions, API-keys hook), the user menu, and
``/admin/audit``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from playdeck.audit import service as audit
from playdeck.audit.service import Action, Actor, Outcome
from playdeck.kit.clock import utcnow
from playdeck.models import AuditEvent, User, UserSession
from playdeck.settings import Settings
from playdeck.web.account import describe_agent
from playdeck.web.admin_audit import EVENTS_PER_PAGE
from playdeck.web.headers import PAGE_CSP
from playdeck.web.nav import ADMIN_LINKS

from .conftest import HTML, get_page, parse, table_links
from .identity_support import (
    NEW_PASSWORD,
    PASSWORD,
    XSS_NAME,
    auth_overrides,
    create_user,
    post_login,
    sign_in,
)

MakeClient = Callable[[Settings], TestClient]


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(**auth_overrides())


@pytest.fixture
def auth_client(make_client: MakeClient, auth_settings: Settings) -> TestClient:
    return make_client(auth_settings)


@pytest.fixture
def alice(engine: Engine, settings: Settings) -> User:
    return create_user(engine, settings, "alice", email="alice@example.com", name=XSS_NAME)


@pytest.fixture
def admin(engine: Engine, settings: Settings) -> User:
    return create_user(engine, settings, "root", role="admin")


def _sessions(db: Session) -> int:
    db.rollback()  # a fresh snapshot: SQLite keeps a reading transaction's view
    return db.scalar(select(func.count()).select_from(UserSession)) or 0


def _change_password(client: TestClient, token: str | None, **fields: str) -> httpx.Response:
    data = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
        **fields,
    }
    if token is not None:
        data["csrf_token"] = token
    response: httpx.Response = client.post(
        "/account/password", data=data, headers=HTML, follow_redirects=False
    )
    return response


# --- the account page ------------------------------------------------------------------------


def test_account_shows_the_profile_with_the_display_name_as_text(
    auth_client: TestClient, alice: User
) -> None:
    sign_in(auth_client)
    response, page = get_page(auth_client, "/account")
    assert XSS_NAME in page.text
    assert "<b>bold</b>" not in response.text
    assert not page.all("b")
    for fact in ("alice", "alice@example.com", "user"):
        assert fact in page.text
    assert response.headers["cache-control"] == "no-store"


def test_account_lists_live_sessions_and_marks_this_one(
    make_client: MakeClient, auth_settings: Settings, alice: User
) -> None:
    laptop, phone = make_client(auth_settings), make_client(auth_settings)
    phone.headers["user-agent"] = "Mozilla/5.0 (Android 14) Chrome/126.0 Mobile Safari/537.36"
    sign_in(phone)
    sign_in(laptop)
    _response, page = get_page(laptop, "/account")
    rows = page.text.split("Active sessions", 1)[1]
    assert "Chrome on Android" in rows
    assert rows.count("this device") == 1
    assert len(_rows(laptop.get("/account", headers=HTML).text, "sessions")) == 2


def _rows(html: str, table_class: str) -> list[str]:
    body = html.split(f'class="table {table_class}"', 1)[1].split("</tbody>", 1)[0]
    return body.split("<tr")[2:]  # skip the header row


def test_account_has_a_hook_for_the_api_keys_section(auth_client: TestClient, alice: User) -> None:
    sign_in(auth_client)
    _response, page = get_page(auth_client, "/account")
    assert page.all("section", id="api-keys")
    assert page.all("h2", id="api-keys-heading")


def test_with_auth_off_the_account_page_explains_the_builtin_admin(client: TestClient) -> None:
    _response, page = get_page(client, "/account")
    assert "Built-in administrator" in page.text
    assert "Authentication is turned off" in page.text
    assert not page.all("input", type="password")
    response = client.post("/account/password", data={}, headers=HTML, follow_redirects=False)
    assert response.status_code == 303


def test_describe_agent_names_common_clients() -> None:
    firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    edge = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/126.0 Safari/537.36 Edg/126.0"
    assert describe_agent(firefox) == "Firefox on Linux"
    assert describe_agent(edge) == "Edge on Windows"
    assert describe_agent("python-httpx/0.28.1") == "Python (httpx)"
    assert describe_agent(None) == "Unknown device"


# --- password change -------------------------------------------------------------------------


def test_changing_the_password_rotates_the_session_and_ends_the_others(
    make_client: MakeClient, auth_settings: Settings, alice: User, db: Session
) -> None:
    browser, other = make_client(auth_settings), make_client(auth_settings)
    sign_in(other)
    token = sign_in(browser)
    old_cookie = browser.cookies["playdeck_session"]
    response = _change_password(browser, token)
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    assert browser.cookies["playdeck_session"] != old_cookie
    _response, page = get_page(browser, "/account")
    assert "Password changed." in page.text
    assert _sessions(db) == 1
    assert other.get("/account", headers=HTML, follow_redirects=False).status_code == 303
    assert post_login(make_client(auth_settings), "alice", NEW_PASSWORD).status_code == 303


def test_a_wrong_current_password_is_refused_and_audited(
    make_client: MakeClient, auth_settings: Settings, alice: User, db: Session
) -> None:
    auth_client = make_client(auth_settings)
    token = sign_in(auth_client)
    response = _change_password(auth_client, token, current_password="not my password at all")
    assert response.status_code == 403
    assert "Current password is incorrect" in parse(response.text).text
    failed = select(func.count()).where(AuditEvent.action == "password.change_failed")
    assert db.scalar(failed) == 1
    assert post_login(make_client(auth_settings), "alice", PASSWORD).status_code == 303


def test_weak_or_mismatched_new_passwords_are_explained(
    auth_client: TestClient, alice: User
) -> None:
    token = sign_in(auth_client)
    mismatch = _change_password(auth_client, token, new_password_confirm="something else")
    assert mismatch.status_code == 422
    assert "do not match" in parse(mismatch.text).text
    weak = _change_password(auth_client, token, new_password="short", new_password_confirm="short")
    assert weak.status_code == 422
    assert "at least 15 characters" in parse(weak.text).text


def test_password_change_without_the_csrf_token_is_refused(
    make_client: MakeClient, auth_settings: Settings, alice: User
) -> None:
    auth_client = make_client(auth_settings)
    sign_in(auth_client)
    response = _change_password(auth_client, None)
    assert response.status_code == 403
    forged = _change_password(auth_client, "forged-token")
    assert forged.status_code == 403
    assert post_login(make_client(auth_settings), "alice", PASSWORD).status_code == 303


# --- sign out everywhere ---------------------------------------------------------------------


def test_sign_out_everywhere_ends_every_session(
    make_client: MakeClient, auth_settings: Settings, alice: User, db: Session
) -> None:
    browser, other = make_client(auth_settings), make_client(auth_settings)
    sign_in(other)
    token = sign_in(browser)
    refused = browser.post("/account/sign-out-everywhere", headers=HTML)
    assert refused.status_code == 403
    assert _sessions(db) == 2
    response = browser.post(
        "/account/sign-out-everywhere",
        data={"csrf_token": token},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert _sessions(db) == 0
    for client in (browser, other):
        assert client.get("/account", headers=HTML, follow_redirects=False).status_code == 303
    _response, page = get_page(browser, "/login")
    assert "You are signed out on every device." in page.text


# --- the user menu ---------------------------------------------------------------------------


def test_admins_see_admin_links_and_their_role(auth_client: TestClient, admin: User) -> None:
    sign_in(auth_client, "root")
    response, _page = get_page(auth_client, "/")
    menu = parse(response.text.split('class="user-menu"', 1)[1].split("</header>", 1)[0])
    assert "root" in menu.text and "admin" in menu.text
    assert "/account" in menu.links() and "/admin/audit" in menu.links()
    assert menu.links().count("/admin/users") == 1  # the users page (web/admin_users.py)


def test_every_admin_link_opens_its_page(auth_client: TestClient, admin: User) -> None:
    """The menu's administration links are a fixed list (web/nav.py): each must be a page."""
    sign_in(auth_client, "root")
    response, _page = get_page(auth_client, "/")
    menu = parse(response.text.split('class="user-menu"', 1)[1].split("</header>", 1)[0])
    links = [link for link in menu.links() if link.startswith("/admin/")]
    assert links == [link.href for link in ADMIN_LINKS]
    for link in links:
        opened, _page = get_page(auth_client, link)
        assert opened.status_code == 200, link
        assert opened.headers["content-type"].startswith("text/html"), link


def test_identity_pages_send_the_csp_and_use_no_inline_script_or_style(
    auth_client: TestClient, admin: User
) -> None:
    urls = ["/login"]
    sign_in(auth_client, "root")
    urls += ["/account", "/admin/audit", "/"]
    for url in urls:
        response, page = get_page(auth_client, url)
        assert response.headers["content-security-policy"] == PAGE_CSP
        assert all(s.attrs.get("src", "").startswith("/static/") for s in page.all("script"))
        assert not [e for e in page.elements if "style" in e.attrs], url
        assert not [e for e in page.elements if any(a.startswith("on") for a in e.attrs)], url
        posts = page.all("form", method="post")
        assert posts, url
        assert len(page.all("input", type="hidden", name="csrf_token")) == len(posts), url


# --- the audit log ---------------------------------------------------------------------------


def _record(
    db: Session, action: Action, *, target: User, outcome: Outcome = Outcome.SUCCESS
) -> None:
    audit.record(db, action=action, actor=Actor.system("tests"), target=target, outcome=outcome)


def test_audit_log_is_for_administrators_only(
    make_client: MakeClient, auth_settings: Settings, alice: User, admin: User
) -> None:
    anonymous = make_client(auth_settings)
    response = anonymous.get("/admin/audit", headers=HTML, follow_redirects=False)
    assert response.headers["location"] == "/login?next=%2Fadmin%2Faudit"
    sign_in(anonymous, "alice")
    _response, page = get_page(anonymous, "/admin/audit", status=403)
    assert "Administrator role required" in page.text


def test_audit_log_shows_sign_ins_with_filters(
    auth_client: TestClient, alice: User, admin: User
) -> None:
    post_login(auth_client, "alice", "wrong guess, not it")
    sign_in(auth_client, "root")
    _response, page = get_page(auth_client, "/admin/audit")
    assert "login.failed" in page.text and "login.succeeded" in page.text
    assert 'class="badge o-failed"' in _response.text

    _response, page = get_page(auth_client, "/admin/audit?outcome=failure&action=login.*")
    rows = _rows(_response.text, "audit")
    assert len(rows) == 1 and "login.failed" in rows[0] and "wrong_password" in rows[0]
    _response, page = get_page(auth_client, "/admin/audit?user=alice&action=")
    assert {r.count("alice") > 0 for r in _rows(_response.text, "audit")} == {True}
    _response, page = get_page(auth_client, "/admin/audit?user=nobody")
    assert "No user matches “nobody”." in page.text
    assert not page.all("table")
    get_page(auth_client, "/admin/audit?outcome=bogus", status=422)
    get_page(auth_client, "/admin/audit?since=yesterday", status=422)


def test_audit_log_pages_through_many_events(
    auth_client: TestClient, admin: User, alice: User, db: Session
) -> None:
    for _ in range(EVENTS_PER_PAGE + 5):
        _record(db, Action.USER_UPDATED, target=alice)
    db.commit()
    sign_in(auth_client, "root")
    response, page = get_page(auth_client, "/admin/audit?action=user.updated")
    assert len(_rows(response.text, "audit")) == EVENTS_PER_PAGE
    next_url = next(link for link in page.links() if "cursor=" in link)
    assert "action=user.updated" in next_url
    response, page = get_page(auth_client, next_url)
    assert len(_rows(response.text, "audit")) == 5
    assert not [link for link in page.links() if "cursor=" in link]


def test_audit_log_date_filter_is_inclusive(
    auth_client: TestClient, admin: User, alice: User, db: Session
) -> None:
    _record(db, Action.USER_UNLOCKED, target=alice)
    db.commit()
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    db.execute(
        update(AuditEvent)
        .where(AuditEvent.action == "user.unlocked")
        .values(created_at=utcnow() - timedelta(days=1))
    )
    db.commit()
    sign_in(auth_client, "root")
    url = f"/admin/audit?action=user.unlocked&since={yesterday}&until={yesterday}"
    response, _page = get_page(auth_client, url)
    assert len(_rows(response.text, "audit")) == 1
    today = utcnow().date().isoformat()
    response, page = get_page(auth_client, f"/admin/audit?action=user.unlocked&since={today}")
    assert "No event matches these filters." in page.text
    assert table_links(response.text) == []
