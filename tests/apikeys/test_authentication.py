"""Authenticating with an API key: both headers, and every way a key can be wrong -> 401."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.audit.service import Actor
from playdeck.kit.clock import utcnow
from playdeck.models import ApiKey, User
from playdeck.users import service as users_service

from .support import INVALID_KEY, PASSWORD, access_token, bearer, x_api_key

Headers = Callable[[str], dict[str, str]]
BOTH_HEADERS = pytest.mark.parametrize("send", [bearer, x_api_key], ids=["bearer", "x-api-key"])


def _assert_invalid_key(client: TestClient, headers: dict[str, str] | dict[str, bytes]) -> None:
    response = client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["detail"] == INVALID_KEY
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@BOTH_HEADERS
def test_a_key_authenticates_with_either_header(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    send: Headers,
) -> None:
    key = make_key(make_user("alice"))
    response = auth_client.get("/api/auth/me", headers=send(key))
    assert response.status_code == 200
    assert response.json()["credential"] == "api_key"
    assert response.json()["user"]["username"] == "alice"


@BOTH_HEADERS
@pytest.mark.parametrize(
    "value",
    [
        "",
        "pd_",
        "pd_" + "0" * 64,  # well formed, unknown
        "pd_" + secrets.token_hex(31),  # too short
        "pd_" + secrets.token_hex(32) + "0",  # too long
        "pd_" + secrets.token_hex(32).upper(),  # the format is lowercase
        "PD_" + secrets.token_hex(32),
        "pd_" + "g" * 64,
        "pd_" + "a" * 10 * 1024,  # 10 KB
        "x" * 10 * 1024,
    ],
    ids=[
        "empty",
        "prefix-only",
        "unknown",
        "short",
        "long",
        "uppercase",
        "uppercase-prefix",
        "not-hex",
        "10kb-key",
        "10kb-junk",
    ],
)
def test_malformed_and_unknown_keys_are_401(
    auth_client: TestClient, send: Headers, value: str
) -> None:
    if send is bearer and not value.startswith("pd_"):
        value = "pd_" + value  # only pd_ bearer values are keys; others are access tokens
    _assert_invalid_key(auth_client, send(value))


@pytest.mark.parametrize("header", ["authorization", "x-api-key"])
@pytest.mark.parametrize(
    "raw",
    [
        "pd_" + "é" * 64,  # non-ASCII
        "pd_" + "٣" * 64,  # digits, but Arabic-Indic ones
        "pd_" + "0" * 63 + "\x00",
        "pd_" + "0" * 32 + "\x01" + "0" * 31,
        "pd_" + "0" * 63 + "\x7f",
        "pd_" + "\u202e" + "0" * 63,
    ],
    ids=["latin", "arabic-digits", "nul", "control", "delete", "bidi"],
)
def test_non_ascii_and_control_characters_are_401_never_500(
    auth_client: TestClient, make_user: Callable[..., User], header: str, raw: str
) -> None:
    make_user("alice")
    value = f"Bearer {raw}" if header == "authorization" else raw
    encoded = value.encode("utf-8")
    response = auth_client.get("/api/projects", headers={header: encoded})
    assert response.status_code == 401, response.text
    assert response.json()["detail"] == INVALID_KEY


def test_a_valid_key_with_a_typo_is_401(
    auth_client: TestClient, make_user: Callable[..., User], make_key: Callable[..., str]
) -> None:
    key = make_key(make_user("alice"))
    typo = key[:-1] + ("0" if key[-1] != "0" else "1")
    _assert_invalid_key(auth_client, bearer(typo))


def test_a_bad_key_never_falls_back_to_another_credential(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("alice")
    login = auth_client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    token, csrf = login.json()["access_token"], login.json()["csrf_token"]
    wrong = "pd_" + secrets.token_hex(32)
    assert auth_client.get("/api/auth/me").status_code == 200  # the cookie alone works

    # A wrong key beside a good cookie; beside a good access token it is two credentials.
    _assert_invalid_key(auth_client, x_api_key(wrong))
    both = auth_client.get("/api/auth/me", headers={**x_api_key(wrong), **bearer(token)})
    assert both.status_code == 400
    auth_client.cookies.clear()
    _assert_invalid_key(auth_client, {**bearer(wrong), "X-CSRF-Token": csrf})


def test_an_expired_key_is_401(
    auth_client: TestClient, make_user: Callable[..., User], make_key: Callable[..., str]
) -> None:
    alice = make_user("alice")
    with time_machine.travel(utcnow(), tick=False) as clock:
        key = make_key(alice, expires_at=(utcnow() + timedelta(hours=1)).isoformat())
        clock.shift(timedelta(minutes=59, seconds=59))
        assert auth_client.get("/api/auth/me", headers=bearer(key)).status_code == 200
        clock.shift(timedelta(seconds=1))
        _assert_invalid_key(auth_client, bearer(key))
        _assert_invalid_key(auth_client, x_api_key(key))


def test_a_revoked_key_is_401(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    db: Session,
) -> None:
    key = make_key(make_user("alice"))
    assert auth_client.get("/api/auth/me", headers=bearer(key)).status_code == 200
    row = db.scalars(select(ApiKey)).one()
    row.revoked_at = utcnow()
    db.commit()
    _assert_invalid_key(auth_client, bearer(key))


def test_a_key_of_a_deactivated_owner_is_401(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    db: Session,
) -> None:
    alice = make_user("alice")
    key = make_key(alice)
    assert auth_client.get("/api/auth/me", headers=bearer(key)).status_code == 200
    owner = db.get(User, alice.id)
    assert owner is not None
    users_service.deactivate(db, user=owner, actor=Actor.system("tests"))
    db.commit()
    _assert_invalid_key(auth_client, bearer(key))
    _assert_invalid_key(auth_client, x_api_key(key))


def test_a_key_of_a_deleted_owner_is_gone_with_it(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    db: Session,
) -> None:
    alice = make_user("alice")
    key = make_key(alice)
    owner = db.get(User, alice.id)
    assert owner is not None
    users_service.delete_user(db, user=owner, actor=Actor.system("tests"))
    db.commit()
    assert db.scalars(select(ApiKey)).all() == []
    _assert_invalid_key(auth_client, bearer(key))


def test_a_key_acts_with_its_owners_current_role(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    db: Session,
) -> None:
    """Never more rights than the owner has now: demote the owner, and the key follows."""
    root = make_user("root", role="admin")
    key = make_key(root)
    assert auth_client.get("/api/admin/audit", headers=bearer(key)).status_code == 200
    owner = db.get(User, root.id)
    assert owner is not None
    owner.role = "user"
    db.commit()
    assert auth_client.get("/api/admin/audit", headers=bearer(key)).status_code == 403
    me = auth_client.get("/api/auth/me", headers=bearer(key)).json()
    assert (me["role"], me["is_superuser"]) == ("user", False)


def test_last_used_is_written_at_most_once_a_minute(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    db: Session,
) -> None:
    key = make_key(make_user("alice"))

    def last_used() -> object:
        db.rollback()  # a fresh snapshot: SQLite keeps a read transaction's view
        return db.scalars(select(ApiKey.last_used_at)).one()

    assert last_used() is None
    with time_machine.travel(utcnow(), tick=False) as clock:
        start = utcnow()
        assert auth_client.get("/api/auth/me", headers=bearer(key)).status_code == 200
        assert last_used() == start
        clock.shift(timedelta(seconds=59))
        for _ in range(3):
            assert auth_client.get("/api/auth/me", headers=x_api_key(key)).status_code == 200
        assert last_used() == start
        clock.shift(timedelta(seconds=1))
        assert auth_client.get("/api/auth/me", headers=bearer(key)).status_code == 200
        assert last_used() == start + timedelta(seconds=60)


def test_a_key_is_marked_used_even_when_the_request_is_refused(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    db: Session,
) -> None:
    """ "Last used" tells an operator what still relies on a key, refused or not."""
    key = make_key(make_user("alice"))
    with time_machine.travel(utcnow(), tick=False):
        assert auth_client.get("/api/admin/audit", headers=bearer(key)).status_code == 403
        assert db.scalars(select(ApiKey.last_used_at)).one() == utcnow()


def test_access_tokens_still_work_beside_keys(
    auth_client: TestClient, make_user: Callable[..., User], make_key: Callable[..., str]
) -> None:
    make_key(make_user("alice"))
    token = access_token(auth_client, "alice")
    me = auth_client.get("/api/auth/me", headers=bearer(token)).json()
    assert me["credential"] == "access_token"


def test_a_bearer_token_with_another_users_key_is_400(
    auth_client: TestClient, make_user: Callable[..., User], make_key: Callable[..., str]
) -> None:
    make_user("alice")
    bobs_key = make_key(make_user("bob"))
    token = access_token(auth_client, "alice")
    auth_client.cookies.clear()
    response = auth_client.get("/api/auth/me", headers={**bearer(token), **x_api_key(bobs_key)})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "ambiguous_credentials"
    # The same key in both headers is one credential.
    same = auth_client.get("/api/auth/me", headers={**bearer(bobs_key), **x_api_key(bobs_key)})
    assert same.status_code == 200
    assert same.json()["user"]["username"] == "bob"


def test_two_api_key_headers_are_400(
    auth_client: TestClient, make_user: Callable[..., User], make_key: Callable[..., str]
) -> None:
    alices, bobs = make_key(make_user("alice")), make_key(make_user("bob"))
    for headers in (
        [("X-API-Key", alices), ("X-API-Key", bobs)],
        [("Authorization", f"Bearer {alices}"), ("Authorization", f"Bearer {bobs}")],
    ):
        response = auth_client.get("/api/auth/me", headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "ambiguous_credentials"
