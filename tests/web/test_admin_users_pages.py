"""``/admin/users`` and ``/settings/users``: the user administration page and its actions."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from playdeck.auth.principal import GlobalRole, Principal
from playdeck.authz.permissions import ProjectRole
from playdeck.kit.clock import utcnow
from playdeck.models import User, UserSession
from playdeck.service_accounts import service as service_accounts
from playdeck.service_accounts.schemas import (
    GlobalServiceAccountCreate,
    ProjectServiceAccountCreate,
)
from playdeck.settings import Settings
from playdeck.users import repository as users_repository
from playdeck.web import admin_users
from playdeck.web.headers import PAGE_CSP

from .admin_support import (
    Browser,
    MakeClient,
    alert,
    browser_for,
    count,
    events,
    listed,
    make_project,
    notices,
    user_named,
)
from .conftest import HTML, get_page, parse, table_links
from .identity_support import NEW_PASSWORD, PASSWORD, XSS_NAME, auth_overrides, create_user


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(**auth_overrides())


@pytest.fixture
def root(engine: Engine, settings: Settings) -> User:
    return create_user(engine, settings, "root", role="admin")


@pytest.fixture
def alice(engine: Engine, settings: Settings) -> User:
    return create_user(engine, settings, "alice", email="alice@example.com", name=XSS_NAME)


@pytest.fixture
def admin(make_client: MakeClient, auth_settings: Settings, root: User) -> Browser:
    """The administrator ``root``, signed in through the login page."""
    return browser_for(make_client, auth_settings, "root")


def _row_buttons(html: str, user_id: int) -> list[str]:
    """The accessible names of the row's buttons (their text, hidden parts included), then
    its links."""
    row = html.split(f'id="user-{user_id}"', 1)[1].split("</tr>", 1)[0]
    page = parse("<tr " + row)
    buttons = re.findall(r"<button[^>]*>(.*?)</button>", row, flags=re.S)
    names = [" ".join(re.sub(r"<[^>]+>", "", b).split()) for b in buttons]
    return names + page.links()


# --- one page, two paths, JSON for API callers -----------------------------------------------


def test_admin_users_is_a_page_for_browsers_and_json_for_api_callers(
    admin: Browser, alice: User
) -> None:
    response = admin.get("/admin/users")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    page = parse(response.text)
    assert "alice" in page.text and XSS_NAME in page.text  # the display name, as text
    assert "<b>bold</b>" not in response.text

    as_curl = admin.client.get("/admin/users", headers={"accept": "*/*"})
    assert as_curl.headers["content-type"] == "application/json"
    assert {u["username"] for u in as_curl.json()} == {"root", "alice"}

    token = admin.client.post(
        "/api/auth/login", json={"username": "root", "password": PASSWORD}
    ).json()["access_token"]
    with_bearer = admin.client.get(
        "/admin/users", headers={**HTML, "authorization": f"Bearer {token}"}
    )
    assert with_bearer.headers["content-type"] == "application/json"


def test_settings_users_is_the_same_page(admin: Browser, alice: User) -> None:
    response = admin.get("/settings/users?q=ali")
    page = parse(response.text)
    assert response.status_code == 200
    assert listed(response.text) == ["alice"]
    # Its forms come back to /settings/users, filters included.
    backs = {e.attrs["value"] for e in page.all("input", name="back")}
    assert backs == {"/settings/users?q=ali"}


def test_user_menu_links_to_the_users_page(admin: Browser) -> None:
    html = admin.get("/").text
    menu = parse(html.split('class="user-menu"', 1)[1].split("</header>", 1)[0])
    assert "/admin/users" in menu.links()


def test_with_authentication_off_the_page_works_and_says_so(
    client: TestClient, db: Session
) -> None:
    _response, page = get_page(client, "/settings/users")
    assert "Authentication is disabled" in page.text
    response = client.post(
        "/admin/users/new",
        data={
            "username": "carol",
            "password": PASSWORD,
            "role": "reporter",
            "back": "/settings/users",
        },
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/settings/users"
    carol = user_named(db, "carol")
    assert carol is not None and carol.role == "reporter"
    _response, page = get_page(client, "/admin/users")
    assert "carol" in page.text and "User created." in page.text


# --- list, search, filters, pages --------------------------------------------------------------


def test_search_and_filters(
    admin: Browser, engine: Engine, settings: Settings, alice: User
) -> None:
    create_user(engine, settings, "ci-bot", role="reporter")
    create_user(engine, settings, "bob", email="bob@example.org")
    with Session(engine) as session:
        session.get_one(User, alice.id).is_active = False
        session.commit()

    def names(url: str) -> list[str]:
        return listed(admin.get(url).text)

    assert names("/admin/users") == ["root", "alice", "ci-bot", "bob"]
    assert names("/admin/users?q=EXAMPLE.ORG") == ["bob"]  # email, any case
    assert names("/admin/users?q=bold") == ["alice"]  # display name
    assert names("/admin/users?role=reporter") == ["ci-bot"]
    assert names("/admin/users?status=inactive") == ["alice"]
    assert names("/admin/users?status=active&role=user") == ["bob"]
    assert "No user matches these filters" in admin.get("/admin/users?q=nobody").text
    assert admin.get("/admin/users?role=wizard").status_code == 422
    assert admin.get("/settings/users?status=maybe").status_code == 422


def test_pages_of_users(
    admin: Browser, engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_users, "USERS_PER_PAGE", 2)
    for name in ("u1", "u2", "u3"):
        create_user(engine, settings, name)
    first = parse(admin.get("/admin/users?role=user").text)
    next_link = [a.attrs["href"] for a in first.all("a", rel="next")]
    assert len(next_link) == 1 and next_link[0].startswith("/admin/users?role=user&cursor=")
    second = admin.get(next_link[0]).text
    assert "u3" in parse(second).text and "u1" not in parse(second).text
    assert not parse(second).all("a", rel="next")
    assert "/admin/users?role=user" in parse(second).links()  # back to the first page


def _service_accounts(engine: Engine, settings: Settings) -> tuple[User, User]:
    """A service account of project Web and a global one (role reporter): their users."""
    project = make_project(engine, "Web")
    made = []
    with Session(engine, expire_on_commit=False) as session:
        for data, owner in (
            (ProjectServiceAccountCreate(name="ci"), project),
            (GlobalServiceAccountCreate(name="ops", role=GlobalRole.REPORTER), None),
        ):
            _, user, _ = service_accounts.create(
                session,
                principal=Principal.builtin_admin(),
                settings=settings,
                data=data,
                project=owner,
            )
            made.append(user)
        session.commit()
    return made[0], made[1]


def test_service_accounts_are_marked_and_the_kind_filter_lists_one_kind(
    admin: Browser,
    engine: Engine,
    settings: Settings,
    alice: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project_account, global_account = _service_accounts(engine, settings)
    html = admin.get("/admin/users").text
    assert listed(html) == ["root", "alice", project_account.username, global_account.username]

    def badge(user: User) -> str:
        row = html.split(f'id="user-{user.id}"', 1)[1].split("</td>", 1)[0]
        return " ".join(parse("<td " + row).text.split())

    assert "service account" in badge(project_account)
    assert "service account" in badge(global_account)
    assert "service account" not in badge(alice)
    project_row = html.split(f'id="user-{project_account.id}"', 1)[1].split("</tr>", 1)[0]
    assert "/projects/web/settings#service-accounts" in parse("<tr " + project_row).links()

    form = parse(html).all("select", id="kind-filter")
    assert len(form) == 1 and form[0].attrs["name"] == "kind"
    assert '<label for="kind-filter">' in html
    people = admin.get("/admin/users?kind=person").text
    assert listed(people) == ["root", "alice"]
    assert '<option value="person" selected>' in people
    service = admin.get("/settings/users?kind=service&role=reporter").text
    assert listed(service) == [global_account.username]
    assert admin.get("/admin/users?kind=robot").status_code == 422

    monkeypatch.setattr(admin_users, "USERS_PER_PAGE", 1)
    first = parse(admin.get("/admin/users?kind=service").text)
    next_link = [a.attrs["href"] for a in first.all("a", rel="next")]
    assert len(next_link) == 1 and next_link[0].startswith("/admin/users?kind=service&cursor=")
    assert listed(admin.get(next_link[0]).text) == [global_account.username]


def test_own_row_has_no_self_destructive_controls(admin: Browser, root: User, alice: User) -> None:
    html = admin.get("/admin/users").text
    own = _row_buttons(html, root.id)
    assert not [label for label in own if "Deactivate" in label or "Demote" in label]
    assert f"/admin/users/{root.id}/keys" in own
    assert not [link for link in own if "/delete" in link or "/password" in link]
    assert "/account#password" in own  # a reset would end this very session
    theirs = _row_buttons(html, alice.id)
    assert "Deactivate alice" in theirs
    assert f"/admin/users/{alice.id}/role?role=admin&back=/admin/users" in theirs
    assert f"/admin/users/{alice.id}/keys" in theirs
    assert any(f"/admin/users/{alice.id}/delete" in link for link in theirs)


# --- creating users ------------------------------------------------------------------------------


def test_create_user_with_every_field(admin: Browser, db: Session) -> None:
    response = admin.post(
        "/admin/users/new",
        username="dave",
        password=NEW_PASSWORD,
        role="admin",
        display_name="Dave D.",
        email="Dave@Example.com",
        back="/admin/users?q=da",
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/users?q=da"
    dave = user_named(db, "dave")
    assert dave is not None
    assert (dave.role, dave.display_name, dave.email) == ("admin", "Dave D.", "dave@example.com")
    (event,) = [e for e in events(db, "user.created") if e.target_id == dave.id]
    assert event.actor_name == "root" and event.details["via"] == "admin"
    assert "User created." in notices(admin.get("/admin/users?q=da").text)


CREATE_REFUSALS = [
    ({"password": "short"}, 422, "at least 15 characters"),
    ({"username": "no spaces allowed"}, 422, "username must be"),
    ({"username": "alice"}, 409, "cannot be used"),
    ({"email": "alice@example.com"}, 409, "cannot be used"),
    ({"email": "not-an-email"}, 422, "email is not a valid address"),
    ({"role": "wizard"}, 422, "Role"),
]


def test_create_user_refusals_keep_the_form(admin: Browser, alice: User, db: Session) -> None:
    for fields, status, message in CREATE_REFUSALS:
        form: dict[str, Any] = {
            "username": "erin",
            "password": NEW_PASSWORD,
            "role": "user",
            "email": "",
            **fields,
        }
        response = admin.post("/admin/users/new", **form)
        assert response.status_code == status, fields
        assert message in alert(response.text), fields
        page = parse(response.text)
        assert page.all("input", name="username")[0].attrs["value"] == form["username"]
        assert "value" not in page.all("input", name="password")[0].attrs  # never echoed
    assert count(db, User) == 2


# --- activity, role, lock ------------------------------------------------------------------------


def test_deactivate_ends_sessions_and_activate_lets_them_back(
    make_client: MakeClient, auth_settings: Settings, admin: Browser, alice: User, db: Session
) -> None:
    theirs = browser_for(make_client, auth_settings, "alice")
    response = admin.post(f"/admin/users/{alice.id}/active", active="false", back="/admin/users")
    assert response.status_code == 303
    assert "User deactivated." in notices(admin.get("/admin/users").text)
    assert user_named(db, "alice").is_active is False  # type: ignore[union-attr]
    assert theirs.get("/account").status_code == 303  # signed out: back to /login
    assert [e.target_id for e in events(db, "user.deactivated")] == [alice.id]

    admin.post(f"/admin/users/{alice.id}/active", active="true")
    assert user_named(db, "alice").is_active is True  # type: ignore[union-attr]
    browser_for(make_client, auth_settings, "alice")  # signs in again


def test_promote_and_demote(admin: Browser, alice: User, db: Session) -> None:
    assert admin.post(f"/admin/users/{alice.id}/role", role="admin").status_code == 303
    assert user_named(db, "alice").role == "admin"  # type: ignore[union-attr]
    html = admin.get("/admin/users").text
    assert "Role changed." in notices(html)
    assert "Demote to user (alice)" in _row_buttons(html, alice.id)
    assert admin.post(f"/admin/users/{alice.id}/role", role="user").status_code == 303
    assert user_named(db, "alice").role == "user"  # type: ignore[union-attr]
    assert len(events(db, "user.updated")) == 2
    assert admin.post(f"/admin/users/{alice.id}/role", role="wizard").status_code == 422


def test_make_admin_asks_for_confirmation_first(admin: Browser, alice: User, db: Session) -> None:
    page = admin.get(f"/admin/users/{alice.id}/role?role=admin&back=/admin/users")
    assert page.status_code == 200
    assert user_named(db, "alice").role == "user"  # type: ignore[union-attr]
    form = parse(page.text)
    assert "Make alice an administrator?" in form.text
    assert form.all("input", name="role", value="admin")
    assert [f.attrs["action"] for f in form.all("form", method="post")][-1] == (
        f"/admin/users/{alice.id}/role"
    )
    assert admin.get(f"/admin/users/{alice.id}/role?role=wizard").status_code == 422


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(
    admin: Browser, root: User, db: Session
) -> None:
    changes: tuple[tuple[str, dict[str, Any]], ...] = (
        (f"/admin/users/{root.id}/role", {"role": "user"}),
        (f"/admin/users/{root.id}/active", {"active": "false"}),
    )
    for url, field in changes:
        response = admin.post(url, back="/settings/users", **field)
        assert response.status_code == 409
        assert "last active administrator" in alert(response.text)
        assert 'id="user-' in response.text  # the list, shown again with the message
    me = user_named(db, "root")
    assert me is not None and me.role == "admin" and me.is_active
    assert events(db, "user.updated") == [] and events(db, "user.deactivated") == []


def test_unlock_a_locked_account(admin: Browser, alice: User, db: Session, engine: Engine) -> None:
    with Session(engine) as session:
        users_repository.lock(session, alice.id, until=utcnow() + timedelta(minutes=15))
        session.commit()
    html = admin.get("/admin/users").text
    assert "locked" in parse(html.split(f'id="user-{alice.id}"')[1].split("</tr>")[0]).text
    assert admin.post(f"/admin/users/{alice.id}/unlock").status_code == 303
    assert user_named(db, "alice").locked_until is None  # type: ignore[union-attr]
    assert "Account unlocked." in notices(admin.get("/admin/users").text)
    assert len(events(db, "user.unlocked")) == 1


# --- password reset --------------------------------------------------------------------------


def test_reset_password_ends_their_sessions(
    make_client: MakeClient, auth_settings: Settings, admin: Browser, alice: User, db: Session
) -> None:
    theirs = browser_for(make_client, auth_settings, "alice")
    back = "/admin/users?q=alice"
    form = admin.get(f"/admin/users/{alice.id}/password?back={quote(back)}")
    assert form.status_code == 200 and "Reset the password of alice" in parse(form.text).text
    assert parse(form.text).all("input", name="back")[0].attrs["value"] == back

    mismatch = admin.post(
        f"/admin/users/{alice.id}/password",
        new_password=NEW_PASSWORD,
        new_password_confirm="something else entirely",
        back=back,
    )
    assert mismatch.status_code == 422 and "do not match" in alert(mismatch.text)
    weak = admin.post(
        f"/admin/users/{alice.id}/password",
        new_password="password",
        new_password_confirm="password",
        back=back,
    )
    assert weak.status_code == 422 and "at least 15 characters" in alert(weak.text)
    assert events(db, "user.password_reset") == []

    done = admin.post(
        f"/admin/users/{alice.id}/password",
        new_password=NEW_PASSWORD,
        new_password_confirm=NEW_PASSWORD,
        back=back,
    )
    assert done.status_code == 303 and done.headers["location"] == back
    assert theirs.get("/account").status_code == 303  # that session ended
    assert count(db, UserSession) == 1  # the administrator's own
    relogin = make_client(auth_settings).post(
        "/api/auth/login", json={"username": "alice", "password": NEW_PASSWORD}
    )
    assert relogin.status_code == 200


# --- delete ------------------------------------------------------------------------------------


def test_delete_asks_first_then_deletes(admin: Browser, alice: User, db: Session) -> None:
    confirm = admin.get(f"/admin/users/{alice.id}/delete?back=%2Fsettings%2Fusers")
    page = parse(confirm.text)
    assert confirm.status_code == 200 and "Delete the account alice?" in page.text
    (form,) = page.all("form", method="post", action=f"/admin/users/{alice.id}/delete")
    assert form is not None
    assert user_named(db, "alice") is not None  # showing the question changed nothing

    response = admin.post(f"/admin/users/{alice.id}/delete", back="/settings/users")
    assert response.status_code == 303 and response.headers["location"] == "/settings/users"
    assert user_named(db, "alice") is None
    assert "User deleted." in notices(admin.get("/settings/users").text)
    assert admin.get(f"/admin/users/{alice.id}/delete").status_code == 404


def test_delete_refusals_are_shown_on_the_confirmation_page(
    admin: Browser, root: User, alice: User, engine: Engine, db: Session
) -> None:
    make_project(engine, "Shop", alice=ProjectRole.OWNER)
    response = admin.post(f"/admin/users/{alice.id}/delete")
    assert response.status_code == 409
    assert "alice is the only owner of Shop" in alert(response.text)
    assert "Delete the account alice?" in parse(response.text).text

    response = admin.post(f"/admin/users/{root.id}/delete")
    assert response.status_code == 409 and "last active administrator" in alert(response.text)
    assert user_named(db, "alice") is not None and user_named(db, "root") is not None


# --- who may, and forged or odd requests ---------------------------------------------------------


def test_non_admins_get_403_and_change_nothing(
    make_client: MakeClient, auth_settings: Settings, root: User, alice: User, db: Session
) -> None:
    user = browser_for(make_client, auth_settings, "alice")
    for url in (
        "/admin/users",
        "/settings/users",
        f"/admin/users/{root.id}/password",
        f"/admin/users/{root.id}/delete",
        f"/admin/users/{alice.id}/role?role=admin",
    ):
        response = user.get(url)
        assert response.status_code == 403, url
        assert response.headers["content-type"].startswith("text/html")
    forbidden: tuple[tuple[str, dict[str, Any]], ...] = (
        ("/admin/users/new", {"username": "mallory", "password": NEW_PASSWORD}),
        (f"/admin/users/{root.id}/active", {"active": "false"}),
        (f"/admin/users/{alice.id}/role", {"role": "admin"}),
        (f"/admin/users/{root.id}/delete", {}),
    )
    for url, form in forbidden:
        assert user.post(url, **form).status_code == 403, url
    assert count(db, User) == 2 and user_named(db, "alice").role == "user"  # type: ignore[union-attr]


def test_anonymous_visitors_are_sent_to_sign_in(
    make_client: MakeClient, auth_settings: Settings, root: User
) -> None:
    client = make_client(auth_settings)
    page = client.get("/settings/users", headers=HTML, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fsettings%2Fusers"
    posted = client.post(f"/admin/users/{root.id}/delete", headers=HTML, follow_redirects=False)
    assert posted.status_code == 401


def test_forms_without_the_csrf_token_are_refused(admin: Browser, alice: User, db: Session) -> None:
    response = admin.post(f"/admin/users/{alice.id}/delete", token=False)
    assert response.status_code == 403
    response = admin.client.post(
        f"/admin/users/{alice.id}/active",
        data={"active": "false", "csrf_token": admin.token},
        headers={**HTML, "origin": "https://evil.example"},
    )
    assert response.status_code == 403
    alice_now = user_named(db, "alice")
    assert alice_now is not None and alice_now.is_active


def test_actions_return_only_to_the_users_pages(admin: Browser, alice: User) -> None:
    for back in ("https://evil.example/admin/users", "//evil.example", "/projects", "/admin/x"):
        response = admin.post(f"/admin/users/{alice.id}/unlock", back=back)
        assert response.headers["location"] == "/admin/users", back


def test_unknown_or_malformed_user_ids_are_404(admin: Browser) -> None:
    for url in ("/admin/users/999/password", "/admin/users/abc/delete", "/admin/users/0/keys"):
        assert admin.get(url).status_code == 404, url
    assert admin.post("/admin/users/999/unlock").status_code == 404


def test_page_links_and_forms(admin: Browser, alice: User) -> None:
    html = admin.get("/admin/users").text
    assert f"/admin/users/{alice.id}/keys" in table_links(html)
    page = parse(html.split('id="main"', 1)[1])
    for form in page.all("form", method="post"):
        assert form.attrs["action"].startswith("/admin/users/"), form.attrs
    tokens = {e.attrs["value"] for e in page.all("input", name="csrf_token")}
    assert tokens == {admin.token}


def test_administration_pages_send_the_csp_and_run_no_inline_code(
    admin: Browser, alice: User, engine: Engine
) -> None:
    make_project(engine, "Shop", alice=ProjectRole.VIEWER)
    urls = [
        "/admin/users",
        "/settings/users",
        f"/admin/users/{alice.id}/password",
        f"/admin/users/{alice.id}/delete",
        f"/admin/users/{alice.id}/keys",
        "/account/api-keys",
        "/projects/shop/members",
        f"/projects/shop/members/{alice.id}/remove",
    ]
    responses = [admin.get(url) for url in urls]
    responses.append(admin.post(f"/admin/users/{alice.id}/keys", name="k"))  # the key, once
    for url, response in zip([*urls, "created key"], responses, strict=True):
        assert response.status_code in (200, 201), url
        assert response.headers["content-security-policy"] == PAGE_CSP, url
        page = parse(response.text)
        assert all(s.attrs.get("src", "").startswith("/static/") for s in page.all("script")), url
        assert not [e for e in page.elements if "style" in e.attrs or e.tag == "style"], url
        assert not [e for e in page.elements if any(a.startswith("on") for a in e.attrs)], url
        assert "<b>bold</b>" not in response.text, url  # alice's display name, escaped
