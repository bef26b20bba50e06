"""Server-side sessions: logout, deactivation, deletion and password changes act at once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from playdeck.audit.service import Actor
from playdeck.auth.tokens import hash_secret
from playdeck.kit.clock import utcnow
from playdeck.models import User, UserSession
from playdeck.settings import Settings
from playdeck.users import service as users_service

from .support import PASSWORD, Login, bearer, login

NEW_PASSWORD = "a brand new passphrase for alice"


def _cookie(session_login: Login) -> dict[str, str]:
    return {"Cookie": f"playdeck_session={session_login.cookie}"}


def _me(client: TestClient, headers: dict[str, str]) -> int:
    return int(client.get("/api/auth/me", headers=headers).status_code)


def test_deactivated_users_token_session_and_refresh_stop_at_once(
    auth_client: TestClient,
    make_user: Callable[..., User],
    engine: Engine,
    make_settings: Callable[..., Settings],
) -> None:
    user = make_user()
    signed_in = login(auth_client)
    auth_client.cookies.clear()
    with Session(engine) as session:
        row = session.get(User, user.id)
        assert row is not None
        row.is_active = False  # a bare flag flip, as an admin edit would: no session cleanup
        session.commit()

    assert _me(auth_client, bearer(signed_in.access)) == 401
    assert _me(auth_client, _cookie(signed_in)) == 401
    refreshed = auth_client.post("/api/auth/refresh", json={"refresh_token": signed_in.refresh})
    assert refreshed.status_code == 401
    again = auth_client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert again.status_code == 403
    assert again.json()["code"] == "account_deactivated"


def test_deactivate_service_ends_every_session(
    auth_client: TestClient, make_user: Callable[..., User], engine: Engine, db: Session
) -> None:
    user = make_user()
    login(auth_client)
    login(auth_client)
    with Session(engine) as session:
        row = session.get(User, user.id)
        assert row is not None
        users_service.deactivate(session, user=row, actor=Actor.cli())
        session.commit()
    assert db.scalar(select(func.count()).select_from(UserSession)) == 0


def test_deleted_users_tokens_stop_working(
    auth_client: TestClient, make_user: Callable[..., User], engine: Engine
) -> None:
    user = make_user()
    signed_in = login(auth_client)
    auth_client.cookies.clear()
    with Session(engine) as session:
        row = session.get(User, user.id)
        assert row is not None
        users_service.delete_user(session, user=row, actor=Actor.cli())
        session.commit()
    assert _me(auth_client, bearer(signed_in.access)) == 401
    assert _me(auth_client, _cookie(signed_in)) == 401


def test_password_change_ends_other_sessions_and_keeps_this_one(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    other = login(auth_client)
    this = login(auth_client)
    auth_client.cookies.clear()

    changed = auth_client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(this.access),
    )
    assert changed.status_code == 200, changed.text
    fresh = changed.json()

    assert _me(auth_client, bearer(other.access)) == 401
    assert _me(auth_client, _cookie(other)) == 401
    assert (
        auth_client.post("/api/auth/refresh", json={"refresh_token": other.refresh}).status_code
        == 401
    )
    # The caller goes on in a fresh session with the pair it was given; everything issued
    # before the change, its own old access token included, stops working.
    assert _me(auth_client, bearer(fresh["access_token"])) == 200
    assert _me(auth_client, bearer(this.access)) == 401
    assert (
        auth_client.post(
            "/api/auth/refresh", json={"refresh_token": fresh["refresh_token"]}
        ).status_code
        == 200
    )

    assert (
        auth_client.post(
            "/api/auth/login", json={"username": "alice", "password": PASSWORD}
        ).status_code
        == 401
    )
    login(auth_client, password=NEW_PASSWORD)


def test_password_change_over_the_cookie_keeps_the_browser_signed_in(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    browser = login(auth_client)
    changed = auth_client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"X-CSRF-Token": browser.csrf},
    )
    assert changed.status_code == 200, changed.text
    assert changed.cookies["playdeck_session"] != browser.cookie  # the session id rotated
    assert auth_client.get("/api/auth/me").status_code == 200
    assert _me(auth_client, _cookie(browser)) == 401


def test_password_change_needs_the_current_password(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    signed_in = login(auth_client)
    auth_client.cookies.clear()
    refused = auth_client.post(
        "/api/auth/password",
        json={"current_password": "not the password", "new_password": NEW_PASSWORD},
        headers=bearer(signed_in.access),
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "invalid_current_password"
    assert _me(auth_client, bearer(signed_in.access)) == 200


def test_password_change_applies_the_policy(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    signed_in = login(auth_client)
    auth_client.cookies.clear()
    weak = auth_client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=bearer(signed_in.access),
    )
    assert weak.status_code == 422
    assert weak.json()["code"] == "weak_password"


def test_logout_ends_the_cookie_session_and_clears_the_cookie(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    browser = login(auth_client)
    out = auth_client.post("/api/auth/logout", headers={"X-CSRF-Token": browser.csrf})
    assert out.status_code == 204
    assert 'playdeck_session=""' in out.headers["set-cookie"]
    assert _me(auth_client, _cookie(browser)) == 401
    assert (
        auth_client.post("/api/auth/refresh", json={"refresh_token": browser.refresh}).status_code
        == 401
    )


def test_logout_with_a_refresh_token_ends_that_session_too(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    first = login(auth_client)
    second = login(auth_client)
    auth_client.cookies.clear()
    out = auth_client.post(
        "/api/auth/logout", json={"refresh_token": first.refresh}, headers=bearer(second.access)
    )
    assert out.status_code == 204
    assert _me(auth_client, bearer(first.access)) == 401
    assert _me(auth_client, bearer(second.access)) == 401


def test_logout_all_ends_every_session_of_the_user_only(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    make_user("bob")
    sessions = [login(auth_client) for _ in range(3)]
    bob = login(auth_client, "bob")
    auth_client.cookies.clear()
    assert (
        auth_client.post("/api/auth/logout-all", headers=bearer(sessions[0].access)).status_code
        == 204
    )
    for signed_in in sessions:
        assert _me(auth_client, bearer(signed_in.access)) == 401
        assert _me(auth_client, _cookie(signed_in)) == 401
    assert _me(auth_client, bearer(bob.access)) == 200


def test_cookie_session_ends_after_its_lifetime(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    with time_machine.travel(utcnow(), tick=False) as clock:
        browser = login(auth_client)
        auth_client.cookies.clear()
        clock.shift(timedelta(days=6, hours=23))
        assert _me(auth_client, _cookie(browser)) == 200
        clock.shift(timedelta(hours=2))
        assert _me(auth_client, _cookie(browser)) == 401


def test_session_row_records_client_and_only_the_cookie_hash(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user()
    browser = login(auth_client)
    row = db.scalars(select(UserSession)).one()
    assert row.token_hash == hash_secret(browser.cookie)
    assert row.user_agent == "testclient"
    assert row.ip == "testclient"
    assert row.expires_at > row.created_at
