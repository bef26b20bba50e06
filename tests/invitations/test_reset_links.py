"""An administrator's password-reset link: the user sets the password, the administrator never
knows it. One use, the newest link only, an expiry; the consequences of an admin's reset."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.kit.clock import utcnow
from playdeck.models import AuditEvent, User
from tests.auth.support import PASSWORD, bearer, login

from .test_invitations import NEW_PASSWORD, token_of


def _issue(client: TestClient, admin_token: str, user: User) -> str:
    response = client.post(
        f"/api/admin/users/{user.id}/password-reset-link", headers=bearer(admin_token)
    )
    assert response.status_code == 201, response.text
    url: str = response.json()["url"]
    assert "/reset-password?token=pdp_" in url
    return token_of(url)


def _admin_and_alice(client: TestClient, make_user: Callable[..., User]) -> tuple[str, User]:
    """An administrator's access token, and the user ``alice``."""
    make_user("root", role="admin")
    alice = make_user("alice")
    admin = login(client, "root").access
    client.cookies.clear()
    return admin, alice


def _reset(client: TestClient, token: str, password: str = NEW_PASSWORD) -> int:
    response = client.post("/api/auth/password-reset", json={"token": token, "password": password})
    return int(response.status_code)


def test_the_user_sets_a_new_password_with_the_link_once(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    admin, alice = _admin_and_alice(auth_client, make_user)
    old = login(auth_client, "alice")
    auth_client.cookies.clear()
    token = _issue(auth_client, admin, alice)

    assert _reset(auth_client, token) == 204
    assert _reset(auth_client, token, "yet another long passphrase") == 404  # single use
    assert auth_client.get("/api/auth/me", headers=bearer(old.access)).status_code == 401
    refused = auth_client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 401
    login(auth_client, "alice", NEW_PASSWORD)

    db.rollback()
    actions = list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions.index("password_reset_link.created") < actions.index("user.password_reset")
    assert actions.index("user.password_reset") < actions.index("password_reset_link.used")


def test_only_the_newest_link_works_and_only_until_it_expires(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    admin, alice = _admin_and_alice(auth_client, make_user)
    first = _issue(auth_client, admin, alice)
    second = _issue(auth_client, admin, alice)
    assert _reset(auth_client, first) == 404

    with time_machine.travel(utcnow() + timedelta(hours=24, seconds=1)):
        assert _reset(auth_client, second) == 404
    with time_machine.travel(utcnow() + timedelta(hours=23, minutes=59)):
        assert _reset(auth_client, second) == 204


def test_a_refused_password_keeps_the_link_and_the_old_password(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    admin, alice = _admin_and_alice(auth_client, make_user)
    token = _issue(auth_client, admin, alice)
    assert _reset(auth_client, token, "alice") == 422  # the password policy
    login(auth_client, "alice", PASSWORD)
    assert _reset(auth_client, token) == 204


def test_no_reset_link_for_a_deactivated_account_nor_from_a_non_admin(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("root", role="admin")
    alice = make_user("alice")
    bob = make_user("bob")
    admin = login(auth_client, "root").access
    by_bob = login(auth_client, "bob").access
    auth_client.cookies.clear()
    path = f"/api/admin/users/{alice.id}/password-reset-link"
    assert auth_client.post(path, headers=bearer(by_bob)).status_code == 403
    assert auth_client.post(path).status_code == 401
    auth_client.patch(
        f"/api/admin/users/{bob.id}", json={"is_active": False}, headers=bearer(admin)
    )
    inactive = auth_client.post(
        f"/api/admin/users/{bob.id}/password-reset-link", headers=bearer(admin)
    )
    assert (inactive.status_code, inactive.json()["code"]) == (409, "user_inactive")
