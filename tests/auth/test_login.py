"""Password login: uniform refusals, lockout, and upgrading imported hashes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import bcrypt
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from playdeck.kit.clock import utcnow
from playdeck.models import AuditEvent, User
from playdeck.settings import Settings

from .support import PASSWORD, bearer, login

# Made by Node's crypto.scryptSync('imported passphrase from nuxt', salt, 64), the way the PhenX
# dashboard stores passwords (salt passed as its hex text).
NUXT_PASSWORD = "imported passphrase from nuxt"
NUXT_HASH = (
    "0123456789abcdef0123456789abcdef:"
    "90578cd8273d239b8e7b8684e802a5d2bf36983d871adceeb6751cb0b228939c"
    "1f09bd4bc677d5d40e8eddebae31750a07c42aa9f5381a3756062f5039b47aab"
)


def _post_login(
    client: TestClient, username: str, password: str
) -> tuple[int, dict[str, str], dict[str, object]]:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    return response.status_code, dict(response.headers), response.json()


def _set_hash(engine: Engine, user_id: int, value: str) -> None:
    with Session(engine) as session:
        session.execute(update(User).where(User.id == user_id).values(password_hash=value))
        session.commit()


def test_unknown_user_and_wrong_password_get_identical_answers(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    wrong_status, wrong_headers, wrong_body = _post_login(auth_client, "alice", "not it at all")
    unknown_status, unknown_headers, unknown_body = _post_login(
        auth_client, "nobody", "not it at all"
    )
    assert wrong_status == unknown_status == 401
    assert wrong_body == unknown_body
    assert wrong_body["code"] == "invalid_credentials"
    for name in ("www-authenticate", "content-type", "content-length"):
        assert wrong_headers[name] == unknown_headers[name]


def test_a_deactivated_account_is_named_only_to_whoever_has_its_password(
    auth_client: TestClient, make_user: Callable[..., User], engine: Engine
) -> None:
    user = make_user()
    with Session(engine) as session:
        session.execute(update(User).where(User.id == user.id).values(is_active=False))
        session.commit()
    status, _headers, body = _post_login(auth_client, "alice", PASSWORD)
    assert status == 403
    assert body["code"] == "account_deactivated"
    assert "deactivated" in str(body["detail"])
    # A wrong password learns nothing: the same answer as for a name that does not exist.
    wrong = _post_login(auth_client, "alice", "not the password")
    unknown = _post_login(auth_client, "nobody-here", "not the password")
    assert wrong[0] == unknown[0] == 401
    assert wrong[2] == unknown[2]


def test_login_by_email_and_case_insensitive_username(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("Alice", email="Alice@Example.com")
    by_email = auth_client.post(
        "/api/auth/login", json={"email": "alice@example.com", "password": PASSWORD}
    )
    assert by_email.status_code == 200
    assert by_email.json()["user"]["email"] == "alice@example.com"
    assert login(auth_client, "ALICE").body["user"]["username"] == "Alice"


def test_lock_refuses_even_the_right_password_until_it_expires(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user()
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(5):
            assert _post_login(auth_client, "alice", "wrong guess")[0] == 401
        status, headers, body = _post_login(auth_client, "alice", PASSWORD)
        assert status == 423
        assert body["code"] == "account_locked"
        assert int(headers["retry-after"]) == 15 * 60

        clock.shift(timedelta(minutes=14))
        status, headers, _body = _post_login(auth_client, "alice", PASSWORD)
        assert status == 423
        assert int(headers["retry-after"]) == 60

        clock.shift(timedelta(minutes=1, seconds=1))
        assert login(auth_client).response.status_code == 200
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions.count("login.failed") == 5
    assert actions.count("login.locked_out") == 1
    assert actions.count("login.blocked") == 2
    assert actions[-1] == "login.succeeded"


def test_success_resets_the_failure_counter(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    for _ in range(4):
        _post_login(auth_client, "alice", "wrong guess")
    login(auth_client)
    for _ in range(4):
        assert _post_login(auth_client, "alice", "wrong guess")[0] == 401
    assert login(auth_client).response.status_code == 200


def test_lock_never_cuts_off_existing_sessions_and_tokens(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    signed_in = login(auth_client)
    for _ in range(6):
        _post_login(auth_client, "alice", "attacker guess")
    assert _post_login(auth_client, "alice", PASSWORD)[0] == 423
    assert auth_client.get("/api/auth/me").status_code == 200  # the cookie
    auth_client.cookies.clear()
    assert auth_client.get("/api/auth/me", headers=bearer(signed_in.access)).status_code == 200
    refreshed = auth_client.post("/api/auth/refresh", json={"refresh_token": signed_in.refresh})
    assert refreshed.status_code == 200


def test_unknown_username_locks_the_same_way(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    """A 423 must not tell an attacker that the account exists."""
    auth_client = make_client(auth_settings(login_rate_limit="100/minute"))
    make_user()
    for _ in range(5):
        _post_login(auth_client, "alice", "wrong guess")
        _post_login(auth_client, "ghost", "wrong guess")
    real = _post_login(auth_client, "alice", "wrong guess")
    ghost = _post_login(auth_client, "ghost", "wrong guess")
    assert real[0] == ghost[0] == 423
    assert real[2] == ghost[2]
    assert real[1]["retry-after"] == ghost[1]["retry-after"]


def test_admin_can_unlock_through_the_api(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user("root", role="admin")
    victim = make_user()
    admin = login(auth_client, "root")
    for _ in range(5):
        _post_login(auth_client, "alice", "wrong guess")
    assert _post_login(auth_client, "alice", PASSWORD)[0] == 423
    auth_client.cookies.clear()
    unlocked = auth_client.post(
        f"/api/admin/users/{victim.id}/unlock", headers=bearer(admin.access)
    )
    assert unlocked.status_code == 200
    assert unlocked.json()["locked_until"] is None
    assert login(auth_client).response.status_code == 200
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.unlocked")).one()
    assert event.actor_name == "root"
    assert event.details == {"was_locked": True}


def test_unlock_needs_an_admin(auth_client: TestClient, make_user: Callable[..., User]) -> None:
    victim = make_user()
    make_user("bob")
    bob = login(auth_client, "bob")
    auth_client.cookies.clear()
    path = f"/api/admin/users/{victim.id}/unlock"
    assert auth_client.post(path).status_code == 401
    assert auth_client.post(path, headers=bearer(bob.access)).status_code == 403


def test_bcrypt_hash_is_verified_and_upgraded_to_argon2id(
    auth_client: TestClient, make_user: Callable[..., User], engine: Engine, db: Session
) -> None:
    user = make_user()
    _set_hash(engine, user.id, bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode())
    assert _post_login(auth_client, "alice", "wrong guess")[0] == 401
    assert login(auth_client).response.status_code == 200
    stored = db.scalars(select(User.password_hash).where(User.id == user.id)).one()
    assert stored is not None and stored.startswith("$argon2id$")
    assert login(auth_client).response.status_code == 200


def test_phenx_scrypt_hash_is_verified_and_upgraded(
    auth_client: TestClient, make_user: Callable[..., User], engine: Engine, db: Session
) -> None:
    user = make_user()
    _set_hash(engine, user.id, NUXT_HASH)
    assert _post_login(auth_client, "alice", PASSWORD)[0] == 401
    signed_in = login(auth_client, password=NUXT_PASSWORD)
    assert signed_in.response.status_code == 200
    stored = db.scalars(select(User.password_hash).where(User.id == user.id)).one()
    assert stored is not None and stored.startswith("$argon2id$")
    login(auth_client, password=NUXT_PASSWORD)


@pytest.mark.usefixtures("production_password_hashing")
def test_new_hashes_are_argon2id_with_owasp_parameters(
    make_user: Callable[..., User], db: Session
) -> None:
    user = make_user()
    stored = db.scalars(select(User.password_hash).where(User.id == user.id)).one()
    assert stored is not None and stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in stored


def test_successful_login_is_audited_without_secrets(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user()
    signed_in = login(auth_client)
    _post_login(auth_client, "alice", "a wrong guess of mine")
    events = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    dumped = repr([(e.details, e.actor_name, e.target_name, e.user_agent) for e in events])
    for secret in (
        PASSWORD,
        "a wrong guess of mine",
        signed_in.access,
        signed_in.refresh,
        signed_in.cookie,
    ):
        assert secret not in dumped
    success = next(e for e in events if e.action == "login.succeeded")
    assert success.actor_name == "alice"
    assert success.ip == "testclient"


def test_lockout_threshold_and_duration_are_configurable(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    client = make_client(auth_settings(lockout_attempts=2, lockout_minutes=1))
    make_user()
    _post_login(client, "alice", "wrong guess")
    _post_login(client, "alice", "wrong guess")
    status, headers, _ = _post_login(client, "alice", PASSWORD)
    assert status == 423
    assert int(headers["retry-after"]) <= 60
