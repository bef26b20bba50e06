"""``/api/users/{id}/api-keys``: create (shown once), list, revoke; who may manage whose keys."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.kit.clock import utcnow
from playdeck.models import ApiKey, AuditEvent, Project, User

from .support import INVALID_KEY, KEY_PATTERN, PASSWORD, access_token, bearer, x_api_key


def _keys_url(user: User) -> str:
    return f"/api/users/{user.id}/api-keys"


def _stored_values(row: ApiKey) -> list[Any]:
    return [getattr(row, column.key) for column in ApiKey.__table__.columns]


def test_key_is_shown_once_and_only_its_hash_is_stored(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    alice = make_user("alice")
    token = access_token(auth_client, "alice")

    created = auth_client.post(
        _keys_url(alice), json={"name": "GitHub Actions"}, headers=bearer(token)
    )

    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    key = body["key"]
    assert KEY_PATTERN.fullmatch(key)
    assert body["prefix"] == f"pd_{key[3:11]}…"
    assert (body["name"], body["status"], body["scopes"], body["project"]) == (
        "GitHub Actions",
        "active",
        None,
        None,
    )

    row = db.scalars(select(ApiKey)).one()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.prefix == key[3:11]
    assert row.user_id == alice.id
    # The plaintext is nowhere in the row, whole or without its prefix.
    for value in _stored_values(row):
        assert key not in str(value) and key[3:] not in str(value)

    listed = auth_client.get(_keys_url(alice), headers=bearer(token))
    assert listed.status_code == 200
    [item] = listed.json()
    assert "key" not in item
    assert item["prefix"] == body["prefix"]
    assert key not in listed.text

    me = auth_client.get("/api/auth/me", headers=bearer(key))
    assert me.status_code == 200
    assert (me.json()["credential"], me.json()["user"]["username"]) == ("api_key", "alice")


def test_two_keys_are_different_and_listed_newest_first(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    alice = make_user("alice")
    token = access_token(auth_client, "alice")
    first = auth_client.post(_keys_url(alice), json={"name": "one"}, headers=bearer(token)).json()
    second = auth_client.post(_keys_url(alice), json={"name": "two"}, headers=bearer(token)).json()
    assert first["key"] != second["key"]
    listed = auth_client.get(_keys_url(alice), headers=bearer(token)).json()
    assert [k["name"] for k in listed] == ["two", "one"]


def test_a_user_cannot_see_or_touch_another_users_keys(
    auth_client: TestClient, make_user: Callable[..., User], make_key: Callable[..., str]
) -> None:
    """Another user's keys answer exactly like a user that does not exist: 404, so ids do not
    leak which accounts exist."""
    alice, bob = make_user("alice"), make_user("bob")
    alices_key = make_key(alice)
    token = access_token(auth_client, "bob")
    missing = auth_client.get("/api/users/999999/api-keys", headers=bearer(token))
    assert missing.status_code == 404

    attempts = [
        auth_client.get(_keys_url(alice), headers=bearer(token)),
        auth_client.post(_keys_url(alice), json={"name": "mine now"}, headers=bearer(token)),
        auth_client.delete(f"{_keys_url(alice)}/1", headers=bearer(token)),
    ]
    for response in attempts:
        assert response.status_code == 404
        assert response.json() == missing.json()
    assert auth_client.get("/api/auth/me", headers=bearer(alices_key)).status_code == 200
    # Bob's own keys are his to manage.
    assert auth_client.get(_keys_url(bob), headers=bearer(token)).json() == []


def test_an_admin_manages_anyones_keys_and_it_is_audited_with_the_prefix_only(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user("root", role="admin")
    ci = make_user("ci", role="reporter")
    token = access_token(auth_client, "root")

    created = auth_client.post(_keys_url(ci), json={"name": "nightly"}, headers=bearer(token))
    assert created.status_code == 201, created.text
    key, key_id, prefix = created.json()["key"], created.json()["id"], created.json()["prefix"]
    assert [k["id"] for k in auth_client.get(_keys_url(ci), headers=bearer(token)).json()] == [
        key_id
    ]
    revoked = auth_client.delete(f"{_keys_url(ci)}/{key_id}", headers=bearer(token))
    assert revoked.status_code == 204
    listed = auth_client.get(_keys_url(ci), headers=bearer(token)).json()
    assert listed[0]["status"] == "revoked"
    assert listed[0]["revoked_at"] is not None

    events = db.scalars(
        select(AuditEvent).where(AuditEvent.action.like("api_key.%")).order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["api_key.created", "api_key.revoked"]
    for event in events:
        assert (event.actor_name, event.target_name) == ("root", "ci")
        assert event.details["prefix"] == prefix
        assert event.details["key_id"] == key_id
    stored = " ".join(str(e.details) for e in db.scalars(select(AuditEvent)))
    assert key not in stored and key[3:] not in stored
    assert hashlib.sha256(key.encode()).hexdigest() not in stored


def test_revocation_works_at_once_and_revoking_again_changes_nothing(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    alice = make_user("alice")
    token = access_token(auth_client, "alice")
    created = auth_client.post(_keys_url(alice), json={"name": "ci"}, headers=bearer(token)).json()
    assert auth_client.get("/api/auth/me", headers=x_api_key(created["key"])).status_code == 200

    url = f"{_keys_url(alice)}/{created['id']}"
    assert auth_client.delete(url, headers=bearer(token)).status_code == 204

    refused = auth_client.get("/api/auth/me", headers=x_api_key(created["key"]))
    assert refused.status_code == 401
    assert refused.json()["detail"] == INVALID_KEY
    db.rollback()  # a fresh snapshot: SQLite keeps a read transaction's view
    revoked_at = db.scalars(select(ApiKey.revoked_at)).one()
    assert auth_client.delete(url, headers=bearer(token)).status_code == 204
    db.rollback()  # a fresh snapshot: SQLite keeps a read transaction's view
    assert db.scalars(select(ApiKey.revoked_at)).one() == revoked_at
    revocations = db.scalars(select(AuditEvent).where(AuditEvent.action == "api_key.revoked"))
    assert len(revocations.all()) == 1
    assert (
        auth_client.delete(f"{_keys_url(alice)}/999999", headers=bearer(token)).status_code == 404
    )


def test_a_key_cannot_create_or_revoke_keys(
    auth_client: TestClient, make_user: Callable[..., User], make_key: Callable[..., str]
) -> None:
    """Otherwise a restricted key could mint itself an unrestricted one."""
    root = make_user("root", role="admin")
    key = make_key(root, scopes=["read"])
    unrestricted = make_key(root)
    for credential in (key, unrestricted):
        for response in (
            auth_client.post(
                _keys_url(root), json={"name": "escalate"}, headers=bearer(credential)
            ),
            auth_client.get(_keys_url(root), headers=bearer(credential)),
            auth_client.delete(f"{_keys_url(root)}/1", headers=bearer(credential)),
        ):
            assert response.status_code == 403
            assert response.json()["code"] == "password_login_required"


def test_a_key_cannot_change_its_owners_password(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    db: Session,
) -> None:
    """The same rule as for keys (``authz.require_password_sign_in``): a password changes only
    from a password sign-in, never with a key that leaked from CI."""
    alice = make_user("alice")
    before = db.scalars(select(User.password_hash).where(User.id == alice.id)).one()
    response = auth_client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "marzipan lantern velocity"},
        headers=bearer(make_key(alice)),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "password_login_required"
    db.expire_all()
    assert db.scalars(select(User.password_hash).where(User.id == alice.id)).one() == before


def test_a_reporter_account_cannot_manage_keys(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    ci = make_user("ci", role="reporter")
    token = access_token(auth_client, "ci")
    assert auth_client.get(_keys_url(ci), headers=bearer(token)).status_code == 403
    created = auth_client.post(_keys_url(ci), json={"name": "self"}, headers=bearer(token))
    assert created.status_code == 403


def test_anonymous_callers_get_401(auth_client: TestClient, make_user: Callable[..., User]) -> None:
    alice = make_user("alice")
    assert auth_client.get(_keys_url(alice)).status_code == 401
    assert auth_client.post(_keys_url(alice), json={"name": "x"}).status_code == 401


def test_a_cookie_session_needs_the_csrf_token_to_create_a_key(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    alice = make_user("alice")
    login = auth_client.post(
        "/api/auth/login", json={"username": "alice", "password": "violet tangerine hovercraft"}
    )
    csrf = login.json()["csrf_token"]
    refused = auth_client.post(_keys_url(alice), json={"name": "browser"})
    assert refused.status_code == 403
    created = auth_client.post(
        _keys_url(alice), json={"name": "browser"}, headers={"X-CSRF-Token": csrf}
    )
    assert created.status_code == 201, created.text


def test_restrictions_are_stored_and_shown(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_project: Callable[[str], Project],
    db: Session,
) -> None:
    make_user("root", role="admin")
    ci = make_user("ci", role="reporter")
    shop = make_project("Shop")
    token = access_token(auth_client, "root")
    expires = (utcnow() + timedelta(days=30)).replace(microsecond=0)

    created = auth_client.post(
        _keys_url(ci),
        json={
            "name": "shop uploads",
            "project": "shop",
            "scopes": ["runs:write", "runs:write"],
            "expires_at": expires.isoformat(),
        },
        headers=bearer(token),
    )

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["project"] == {"id": shop.id, "slug": "shop", "name": "Shop"}
    assert body["scopes"] == ["runs:write"]
    row = db.scalars(select(ApiKey)).one()
    assert (row.project_id, row.scopes, row.expires_at) == (shop.id, ["runs:write"], expires)
    by_id = auth_client.post(
        _keys_url(ci), json={"name": "by id", "project": shop.id}, headers=bearer(token)
    )
    assert by_id.json()["project"]["id"] == shop.id


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"name": ""}, 422),
        ({"name": "   "}, 422),
        ({"name": "line\nbreak"}, 422),
        ({"name": "x" * 101}, 422),
        ({}, 422),
        ({"name": "ci", "scopes": []}, 422),
        ({"name": "ci", "scopes": ["admin"]}, 422),
        ({"name": "ci", "expires_at": "2001-01-01T00:00:00Z"}, 422),
        ({"name": "ci", "expires_at": "not a date"}, 422),
        ({"name": "ci", "project": "no-such-project"}, 404),
        ({"name": "ci", "project": 0}, 422),
        ({"name": "ci", "project": True}, 422),
        ({"name": "ci", "owner": 1}, 422),
    ],
)
def test_invalid_requests_are_refused_and_store_nothing(
    auth_client: TestClient,
    make_user: Callable[..., User],
    db: Session,
    payload: dict[str, Any],
    status: int,
) -> None:
    alice = make_user("alice")
    token = access_token(auth_client, "alice")
    response = auth_client.post(_keys_url(alice), json=payload, headers=bearer(token))
    assert response.status_code == status, response.text
    assert db.scalars(select(ApiKey)).all() == []


def test_a_user_cannot_restrict_a_key_to_a_project_they_cannot_see(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_project: Callable[[str], Project],
) -> None:
    alice = make_user("alice")
    make_project("Secret")
    token = access_token(auth_client, "alice")
    hidden = auth_client.post(
        _keys_url(alice), json={"name": "ci", "project": "secret"}, headers=bearer(token)
    )
    missing = auth_client.post(
        _keys_url(alice), json={"name": "ci", "project": "nothing"}, headers=bearer(token)
    )
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
