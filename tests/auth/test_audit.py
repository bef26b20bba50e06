"""The audit log: written for security events, readable by administrators only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from playdeck.models import User

from .support import PASSWORD, Login, bearer, login


@pytest.fixture
def admin(auth_client: TestClient, make_user: Callable[..., User]) -> Login:
    make_user("root", role="admin")
    signed_in = login(auth_client, "root")
    auth_client.cookies.clear()
    return signed_in


def _audit(client: TestClient, admin: Login, **params: Any) -> dict[str, Any]:
    response = client.get("/api/admin/audit", params=params, headers=bearer(admin.access))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_only_admins_read_the_audit_log(
    auth_client: TestClient, admin: Login, make_user: Callable[..., User]
) -> None:
    make_user("bob")
    bob = login(auth_client, "bob")
    auth_client.cookies.clear()
    assert auth_client.get("/api/admin/audit").status_code == 401
    assert auth_client.get("/api/admin/audit", headers=bearer(bob.access)).status_code == 403
    assert auth_client.get("/api/admin/audit", headers=bearer(admin.access)).status_code == 200


def test_events_cover_the_security_lifecycle(
    auth_client: TestClient, admin: Login, make_user: Callable[..., User]
) -> None:
    make_user()
    auth_client.post("/api/auth/login", json={"username": "alice", "password": "wrong guess"})
    alice = login(auth_client)
    auth_client.cookies.clear()
    auth_client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "a second passphrase here"},
        headers=bearer(alice.access),
    )
    items = _audit(auth_client, admin)["items"]
    actions = [e["action"] for e in items]
    for expected in ("user.created", "login.failed", "login.succeeded", "password.changed"):
        assert expected in actions
    assert actions[0] == "password.changed"  # newest first
    ids = [e["id"] for e in items]
    assert ids == sorted(ids, reverse=True)


def test_filters_by_action_prefix_outcome_and_user(
    auth_client: TestClient, admin: Login, make_user: Callable[..., User]
) -> None:
    alice = make_user()
    auth_client.post("/api/auth/login", json={"username": "alice", "password": "wrong guess"})
    login(auth_client)
    failures = _audit(auth_client, admin, outcome="failure")["items"]
    assert [e["action"] for e in failures] == ["login.failed"]
    assert failures[0]["target_name"] == "alice"
    logins = _audit(auth_client, admin, action="login.*")["items"]
    assert {e["action"] for e in logins} == {"login.failed", "login.succeeded"}
    about_alice = _audit(auth_client, admin, user_id=alice.id)["items"]
    assert about_alice and all(e["target_id"] == alice.id for e in about_alice)
    exact = _audit(auth_client, admin, action="login.succeeded")["items"]
    assert {e["action"] for e in exact} == {"login.succeeded"}


def test_keyset_pagination_walks_every_event_once(
    auth_client: TestClient, admin: Login, make_user: Callable[..., User]
) -> None:
    make_user()
    for _ in range(4):
        auth_client.post("/api/auth/login", json={"username": "alice", "password": "wrong guess"})
    everything = [e["id"] for e in _audit(auth_client, admin, limit=500)["items"]]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = _audit(auth_client, admin, **params)
        seen.extend(e["id"] for e in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    assert len(seen) == len(set(seen)) >= 6


def test_bad_cursor_is_422(auth_client: TestClient, admin: Login) -> None:
    for cursor in ("not-a-cursor", "WyJ4Il0"):  # the second decodes to ["x"]
        response = auth_client.get(
            "/api/admin/audit", params={"cursor": cursor}, headers=bearer(admin.access)
        )
        assert response.status_code == 422


def test_the_log_cannot_be_changed_over_the_api(auth_client: TestClient, admin: Login) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = auth_client.request(method, "/api/admin/audit", headers=bearer(admin.access))
        assert response.status_code == 405
