"""``GET /api/auth/sessions`` and ``DELETE /api/auth/sessions/{id}``: your own sessions, the
current one marked, any one ended at once; anyone else's id answers like an unknown one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.kit.clock import utcnow
from playdeck.models import AuditEvent, User
from tests.auth.support import Login, bearer, login

SESSIONS = "/api/auth/sessions"


def _signed_in(client: TestClient, username: str) -> Login:
    signed = login(client, username)
    client.cookies.clear()  # every request below carries its credential explicitly
    return signed


def _ids(client: TestClient, token: str) -> dict[str, bool]:
    response = client.get(SESSIONS, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return {row["id"]: row["current"] for row in response.json()}


def test_the_list_holds_every_own_session_with_this_one_marked(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("alice")
    make_user("bob")
    first = _signed_in(auth_client, "alice")
    second = _signed_in(auth_client, "alice")
    _signed_in(auth_client, "bob")
    listed = auth_client.get(SESSIONS, headers=bearer(second.access)).json()
    assert len(listed) == 2  # bob's is not alice's business
    assert [row["current"] for row in listed].count(True) == 1
    current = next(row for row in listed if row["current"])
    assert current["user_agent"] == "testclient"
    assert set(current) == {
        "id",
        "current",
        "user_agent",
        "ip",
        "sso_provider",
        "created_at",
        "last_seen_at",
        "expires_at",
    }
    assert list(_ids(auth_client, first.access).values()).count(True) == 1
    assert _ids(auth_client, first.access).keys() == _ids(auth_client, second.access).keys()


def test_ending_another_session_signs_that_device_out_at_once(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user("alice")
    laptop = _signed_in(auth_client, "alice")
    phone = _signed_in(auth_client, "alice")
    phone_id = next(i for i, current in _ids(auth_client, phone.access).items() if current)

    ended = auth_client.delete(f"{SESSIONS}/{phone_id}", headers=bearer(laptop.access))
    assert ended.status_code == 204
    assert "set-cookie" not in ended.headers  # the laptop stays signed in

    assert auth_client.get("/api/auth/me", headers=bearer(phone.access)).status_code == 401
    auth_client.cookies.set("playdeck_session", phone.cookie)
    assert auth_client.get("/api/auth/me").status_code == 401
    auth_client.cookies.clear()
    refused = auth_client.post("/api/auth/refresh", json={"refresh_token": phone.refresh})
    assert refused.status_code == 401
    assert auth_client.get("/api/auth/me", headers=bearer(laptop.access)).status_code == 200
    assert phone_id not in _ids(auth_client, laptop.access)
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "session.ended")).one()
    assert event.details["current"] is False
    assert event.actor_name == "alice"


def test_ending_the_current_session_signs_this_client_out(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("alice")
    signed = login(auth_client, "alice")  # keeps the cookie: a browser
    (mine,) = auth_client.get(SESSIONS).json()
    assert mine["current"] is True
    ended = auth_client.delete(f"{SESSIONS}/{mine['id']}", headers={"X-CSRF-Token": signed.csrf})
    assert ended.status_code == 204
    assert 'playdeck_session=""' in ended.headers["set-cookie"]
    assert auth_client.get("/api/auth/me", headers=bearer(signed.access)).status_code == 401


def test_another_users_session_id_answers_like_an_unknown_one(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user("alice")
    make_user("bob")
    alice = _signed_in(auth_client, "alice")
    bob = _signed_in(auth_client, "bob")
    (bobs_id,) = _ids(auth_client, bob.access)

    theirs = auth_client.delete(f"{SESSIONS}/{bobs_id}", headers=bearer(alice.access))
    unknown = auth_client.delete(f"{SESSIONS}/nosuchsession", headers=bearer(alice.access))
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()
    assert theirs.json()["code"] == "session_not_found"
    assert auth_client.get("/api/auth/me", headers=bearer(bob.access)).status_code == 200
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "session.ended")).all() == []


def test_an_expired_session_is_gone_from_the_list_and_cannot_be_ended(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("alice")
    old = _signed_in(auth_client, "alice")
    (old_id,) = _ids(auth_client, old.access)
    with time_machine.travel(utcnow() + timedelta(days=31)):
        fresh = _signed_in(auth_client, "alice")
        assert old_id not in _ids(auth_client, fresh.access)
        gone = auth_client.delete(f"{SESSIONS}/{old_id}", headers=bearer(fresh.access))
        assert gone.status_code == 404


def test_an_api_key_neither_lists_nor_ends_sessions(
    auth_client: TestClient, make_user: Callable[..., User], make_api_key: Callable[..., str]
) -> None:
    alice = make_user("alice")
    signed = _signed_in(auth_client, "alice")
    (session_id,) = _ids(auth_client, signed.access)
    key = bearer(make_api_key(alice))
    assert auth_client.get(SESSIONS, headers=key).status_code == 403
    refused = auth_client.delete(f"{SESSIONS}/{session_id}", headers=key)
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_login_required"
    assert auth_client.get("/api/auth/me", headers=bearer(signed.access)).status_code == 200


def test_anonymous_callers_get_401(auth_client: TestClient) -> None:
    assert auth_client.get(SESSIONS).status_code == 401
    assert auth_client.delete(f"{SESSIONS}/anything").status_code == 401
