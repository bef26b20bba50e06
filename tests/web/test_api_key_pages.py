"""API-key pages: your own keys (``/account`` and ``/account/api-keys``) and an administrator's
view of anyone's (``/admin/users/{id}/keys``). The key is shown once, in the creating response."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from playdeck.authz.permissions import ProjectRole
from playdeck.kit.clock import utcnow
from playdeck.models import ApiKey, User
from playdeck.settings import Settings

from .admin_support import (
    Browser,
    MakeClient,
    alert,
    browser_for,
    count,
    events,
    fresh,
    make_project,
    notices,
)
from .conftest import HTML, get_page, parse
from .identity_support import auth_overrides, create_user

KEY = re.compile(r"pd_[0-9a-f]{64}")


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(**auth_overrides())


@pytest.fixture
def root(engine: Engine, settings: Settings) -> User:
    return create_user(engine, settings, "root", role="admin")


@pytest.fixture
def alice(engine: Engine, settings: Settings) -> User:
    return create_user(engine, settings, "alice")


@pytest.fixture
def browser(make_client: MakeClient, auth_settings: Settings, alice: User) -> Browser:
    """``alice`` (a global ``user``), signed in through the login page."""
    return browser_for(make_client, auth_settings, "alice")


@pytest.fixture
def admin(make_client: MakeClient, auth_settings: Settings, root: User) -> Browser:
    return browser_for(make_client, auth_settings, "root")


def _whoami(client: TestClient, key: str) -> httpx.Response:
    response: httpx.Response = client.get(
        "/api/auth/me", headers={"authorization": f"Bearer {key}"}
    )
    return response


def _acts_as(client: TestClient, key: str) -> str:
    response = _whoami(client, key)
    assert response.status_code == 200, response.text
    assert response.json()["credential"] == "api_key"
    username: str = response.json()["user"]["username"]
    return username


def _shown_key(response: httpx.Response) -> str:
    (key,) = set(KEY.findall(response.text))
    return str(key)


def _key_rows(html: str) -> dict[str, str]:
    """Key name -> the row's text, for each key listed."""
    if 'class="table keys"' not in html:
        return {}
    body = html.split('class="table keys"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = body.split("<tr")[1:]
    found = {}
    for row in rows:
        page = parse("<tr" + row)
        name = parse(row.split('class="key__name">', 1)[1].split("</td>", 1)[0]).text
        found[name.strip()] = page.text
    return found


# --- creating: shown once ------------------------------------------------------------------------


def test_create_a_key_shows_it_once_and_it_works(
    browser: Browser, alice: User, engine: Engine, db: Session
) -> None:
    project = make_project(engine, "Shop", alice=ProjectRole.MEMBER)
    account = browser.get("/account")
    section = account.text.split('id="api-keys"', 1)[1]
    (form,) = parse(section).all("form", method="post")
    assert form.attrs["action"] == "/account/api-keys"
    assert "No API keys yet" in parse(section).text

    expires = (utcnow() + timedelta(days=30)).date()
    response = browser.post(
        "/account/api-keys",
        name="GitHub Actions",
        expires=expires.isoformat(),
        project="shop",
        scopes="runs:write",
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers and "location" not in response.headers
    page = parse(response.text)
    assert "will not be shown again" in page.text
    key = _shown_key(response)
    assert [e for e in page.all("pre", id="new-key")]  # the copy button's target
    # Reloading this history entry must fetch the list, not post the form again.
    assert page.all("section", **{"data-replace-url": "/account/api-keys"})

    assert _acts_as(browser.client, key) == "alice"
    row = fresh(db).scalars(select(ApiKey)).one()
    assert (row.name, row.user_id, row.project_id, row.scopes) == (
        "GitHub Actions",
        alice.id,
        project.id,
        ["runs:write"],
    )
    assert row.expires_at is not None and row.expires_at.date() == expires + timedelta(days=1)
    assert key not in str(row.key_hash)
    assert len(events(db, "api_key.created")) == 1

    # Never again: not on the account page, not on the keys page; the prefix is.
    for url in ("/account", "/account/api-keys"):
        again = browser.get(url)
        assert key not in again.text
        assert f"pd_{key[3:11]}…" in parse(again.text).text
        assert "GitHub Actions" in _key_rows(again.text)


def test_create_refusals_keep_the_form_and_create_nothing(
    browser: Browser, engine: Engine, db: Session
) -> None:
    make_project(engine, "Hidden")  # alice is not a member: she may not see it
    yesterday = (utcnow() - timedelta(days=1)).date().isoformat()
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"name": "  "}, 422, "Name"),
        ({"name": "ci", "expires": yesterday}, 422, "future"),
        ({"name": "ci", "expires": "31/12/2030"}, 422, "Expiry date must be a date"),
        ({"name": "ci", "project": "hidden"}, 404, "Project not found"),
        ({"name": "ci", "project": "nope"}, 404, "Project not found"),
        ({"name": "ci", "scopes": "admin"}, 422, "Scopes"),
    ]
    for form, status, message in cases:
        response = browser.post("/account/api-keys", **form)
        assert response.status_code == status, form
        assert message in alert(response.text), form
        assert not KEY.findall(response.text)
        name = parse(response.text).all("input", id="key-name")[0].attrs["value"]
        assert name == form["name"]
    assert count(db, ApiKey) == 0


def test_expired_and_revoked_keys_are_marked(
    browser: Browser,
    alice: User,
    make_api_key: Callable[..., str],
    engine: Engine,
) -> None:
    make_api_key(alice, name="old")
    make_api_key(alice, name="gone")
    make_api_key(alice, name="fresh", expires_at=(utcnow() + timedelta(days=3)).isoformat())
    with Session(engine) as session:
        past = utcnow() - timedelta(days=1)
        session.execute(update(ApiKey).where(ApiKey.name == "old").values(expires_at=past))
        session.execute(update(ApiKey).where(ApiKey.name == "gone").values(revoked_at=past))
        session.commit()
    rows = _key_rows(browser.get("/account/api-keys").text)
    assert "expired" in rows["old"] and "Revoke" in rows["old"]
    assert "revoked" in rows["gone"] and "Revoke" not in rows["gone"]
    assert "active" in rows["fresh"] and "never" in rows["fresh"]  # never used


def test_revoke_asks_first_then_the_key_stops_working(
    browser: Browser, alice: User, make_api_key: Callable[..., str], db: Session
) -> None:
    key = make_api_key(alice, name="nightly")
    key_id = fresh(db).scalars(select(ApiKey.id)).one()
    links = parse(browser.get("/account").text).links()
    assert f"/account/api-keys/{key_id}/revoke?back=/account" in links

    confirm = browser.get(f"/account/api-keys/{key_id}/revoke?back=%2Faccount")
    assert confirm.status_code == 200
    assert f"pd_{key[3:11]}…" in parse(confirm.text).text and "nightly" in parse(confirm.text).text
    assert _whoami(browser.client, key).status_code == 200  # asking changed nothing

    response = browser.post(f"/account/api-keys/{key_id}/revoke", back="/account")
    assert response.status_code == 303 and response.headers["location"] == "/account#api-keys"
    assert _whoami(browser.client, key).status_code == 401
    assert "API key revoked." in notices(browser.get("/account").text)
    assert len(events(db, "api_key.revoked")) == 1
    again = browser.post(f"/account/api-keys/{key_id}/revoke", back="https://evil.example")
    assert again.headers["location"] == "/account/api-keys"  # a no-op, and never off-site
    assert len(events(db, "api_key.revoked")) == 1


def test_someone_elses_key_is_404_on_your_pages(
    browser: Browser,
    engine: Engine,
    settings: Settings,
    make_api_key: Callable[..., str],
    db: Session,
) -> None:
    bob = create_user(engine, settings, "bob")
    key = make_api_key(bob, name="bob's")
    key_id = fresh(db).scalars(select(ApiKey.id)).one()
    assert browser.get(f"/account/api-keys/{key_id}/revoke").status_code == 404
    assert browser.post(f"/account/api-keys/{key_id}/revoke").status_code == 404
    assert _whoami(browser.client, key).status_code == 200
    assert browser.get(f"/admin/users/{bob.id}/keys").status_code == 403


def test_reporters_and_key_holders_cannot_manage_keys(
    make_client: MakeClient,
    auth_settings: Settings,
    engine: Engine,
    settings: Settings,
    make_api_key: Callable[..., str],
    db: Session,
) -> None:
    ci = create_user(engine, settings, "ci", role="reporter")
    reporter = browser_for(make_client, auth_settings, "ci")
    section = reporter.get("/account").text.split('id="api-keys"', 1)[1]
    assert "Reporter accounts may only submit results" in parse(section).text
    assert not parse(section).all("form")
    assert reporter.post("/account/api-keys", name="mine").status_code == 403
    assert reporter.get("/account/api-keys").status_code == 403

    key = make_api_key(ci)
    with_key = make_client(auth_settings).get(
        "/account/api-keys", headers={**HTML, "authorization": f"Bearer {key}"}
    )
    assert with_key.status_code == 403
    assert "Sign in with your password" in parse(with_key.text).text
    assert count(db, ApiKey) == 1


def test_forged_create_without_the_token_is_refused(browser: Browser, db: Session) -> None:
    assert browser.post("/account/api-keys", token=False, name="x").status_code == 403
    assert count(db, ApiKey) == 0


# --- an administrator's view of anyone's keys -----------------------------------------------


def test_admin_creates_and_revokes_a_users_key(admin: Browser, alice: User, db: Session) -> None:
    users = admin.get("/admin/users").text
    assert f"/admin/users/{alice.id}/keys" in parse(users).links()
    page = admin.get(f"/admin/users/{alice.id}/keys")
    assert page.status_code == 200 and "API keys of alice" in parse(page.text).text

    created = admin.post(f"/admin/users/{alice.id}/keys", name="for alice")
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    key = _shown_key(created)
    assert _acts_as(admin.client, key) == "alice"  # it acts as alice
    assert parse(created.text).all(
        "section", **{"data-replace-url": f"/admin/users/{alice.id}/keys"}
    )
    key_id = fresh(db).scalars(select(ApiKey.id)).one()

    confirm = admin.get(f"/admin/users/{alice.id}/keys/{key_id}/revoke")
    assert "Revoke alice's API key" in parse(confirm.text).text
    revoked = admin.post(f"/admin/users/{alice.id}/keys/{key_id}/revoke")
    assert revoked.status_code == 303
    assert revoked.headers["location"] == f"/admin/users/{alice.id}/keys"
    assert _whoami(admin.client, key).status_code == 401
    (event,) = events(db, "api_key.revoked")
    assert event.actor_name == "root" and event.target_id == alice.id


def test_a_key_of_another_user_is_404_under_this_user(
    admin: Browser,
    root: User,
    alice: User,
    make_api_key: Callable[..., str],
    db: Session,
) -> None:
    make_api_key(root, name="root's")
    key_id = fresh(db).scalars(select(ApiKey.id)).one()
    assert admin.get(f"/admin/users/{alice.id}/keys/{key_id}/revoke").status_code == 404
    assert admin.post(f"/admin/users/{alice.id}/keys/{key_id}/revoke").status_code == 404
    assert admin.get("/admin/users/999/keys").status_code == 404


def test_with_authentication_off(client: TestClient, engine: Engine, settings: Settings) -> None:
    alice = create_user(engine, settings, "alice")
    own = client.get("/account/api-keys", headers=HTML, follow_redirects=False)
    assert own.status_code == 303 and own.headers["location"] == "/account"
    _response, page = get_page(client, f"/admin/users/{alice.id}/keys")
    assert "Authentication is disabled" in page.text
    created = client.post(f"/admin/users/{alice.id}/keys", data={"name": "ci"}, headers=HTML)
    assert created.status_code == 201 and KEY.findall(created.text)
