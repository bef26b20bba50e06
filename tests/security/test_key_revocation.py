"""What ends a user's API keys: an administrator's password reset and deactivation do (and
reactivating brings none back); the owner's own password change does not (a decision)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import AuditEvent, User
from playdeck.settings import Settings

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "violet tangerine hovercraft"
NEW_PASSWORD = "marmalade lighthouse orbit"


@pytest.fixture
def client(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> TestClient:
    return make_client(make_settings(require_auth=True, secret_key=SECRET))


def _bearer(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _works(client: TestClient, key: str) -> bool:
    status: int = client.get("/api/auth/me", headers={"X-API-Key": key}).status_code
    assert status in (200, 401)
    return status == 200


@pytest.fixture
def alice_key(
    make_account: Callable[..., User], make_api_key: Callable[..., str]
) -> tuple[User, str]:
    make_account("root", role="admin")
    alice = make_account("alice", role="user")
    return alice, make_api_key(alice)


def test_an_admin_password_reset_revokes_the_users_keys(
    client: TestClient, alice_key: tuple[User, str], db: Session
) -> None:
    alice, key = alice_key
    assert _works(client, key)
    admin = _bearer(client, "root")
    reset = client.patch(
        f"/api/admin/users/{alice.id}", json={"password": NEW_PASSWORD}, headers=admin
    )
    assert reset.status_code == 200, reset.text
    assert not _works(client, key)
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.password_reset")).one()
    assert event.details["api_keys_revoked"] == 1


def test_reactivating_a_user_does_not_revive_their_keys(
    client: TestClient, alice_key: tuple[User, str]
) -> None:
    alice, key = alice_key
    admin = _bearer(client, "root")
    for active in (False, True):
        response = client.patch(
            f"/api/admin/users/{alice.id}", json={"is_active": active}, headers=admin
        )
        assert response.status_code == 200, response.text
    assert client.get(f"/api/admin/users/{alice.id}", headers=admin).json()["is_active"] is True
    assert not _works(client, key)
    listed = client.get(f"/api/users/{alice.id}/api-keys", headers=admin).json()
    assert [k["status"] for k in listed] == ["revoked"]


def test_the_owners_own_password_change_keeps_their_keys(
    client: TestClient, alice_key: tuple[User, str]
) -> None:
    _alice, key = alice_key
    mine = _bearer(client, "alice")
    changed = client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=mine,
    )
    assert changed.status_code == 200, changed.text
    assert _works(client, key)
