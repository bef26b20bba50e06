"""``playdeck users`` and ``playdeck audit``: the same services as the API, from a shell."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import Result

from playdeck.kit.clock import utcnow
from playdeck.models import AuditEvent, User, UserSession

from .support import PASSWORD, bearer, login

NEW_PASSWORD = "the reset passphrase from the cli"


@pytest.fixture
def run(run_cli: Callable[..., Result]) -> Callable[..., Result]:
    return run_cli


def _user(db: Session, username: str) -> User:
    db.expire_all()
    return db.scalars(select(User).where(User.username == username)).one()


def test_create_admin_with_password_option(
    run: Callable[..., Result], db: Session, auth_client: TestClient
) -> None:
    result = run("users", "create-admin", "--email", "Root@Example.com", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    user = _user(db, "root@example.com")
    assert (user.role, user.email) == ("admin", "root@example.com")
    assert PASSWORD not in result.output
    login(auth_client, "root@example.com")


def test_create_admin_prompts_for_a_hidden_confirmed_password(
    run: Callable[..., Result], db: Session
) -> None:
    result = run(
        "users",
        "create-admin",
        "--email",
        "ops@example.com",
        "--username",
        "ops",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    assert _user(db, "ops").role == "admin"


def test_create_admin_refuses_a_weak_password(run: Callable[..., Result], db: Session) -> None:
    result = run("users", "create-admin", "--email", "a@example.com", "--password", "short")
    assert result.exit_code == 1
    assert "at least 15 characters" in result.output
    assert db.scalars(select(User)).all() == []


def test_create_admin_promotes_an_existing_user(
    run: Callable[..., Result], db: Session, make_user: Callable[..., User]
) -> None:
    make_user("carol", email="carol@example.com")
    result = run("users", "create-admin", "--email", "carol@example.com")
    assert result.exit_code == 0, result.output
    assert "Promoted" in result.output
    carol = _user(db, "carol")
    assert carol.role == "admin"
    changed = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.updated")).one()
    assert changed.details["changes"]["role"] == ["user", "admin"]
    assert changed.actor_type == "system"
    assert str(changed.actor_name).startswith("cli:")


def test_list_shows_users_and_locks(
    run: Callable[..., Result], make_user: Callable[..., User], auth_client: TestClient
) -> None:
    make_user("alice", email="alice@example.com")
    for _ in range(5):
        auth_client.post("/api/auth/login", json={"username": "alice", "password": "wrong guess"})
    result = run("users", "list")
    assert result.exit_code == 0, result.output
    assert "alice@example.com" in result.output
    assert str(utcnow().year) in result.output  # the locked-until column


def test_unlock_clears_a_lock(
    run: Callable[..., Result], make_user: Callable[..., User], auth_client: TestClient
) -> None:
    make_user()
    for _ in range(5):
        auth_client.post("/api/auth/login", json={"username": "alice", "password": "wrong guess"})
    locked = auth_client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert locked.status_code == 423
    result = run("users", "unlock", "alice")
    assert result.exit_code == 0, result.output
    assert login(auth_client).response.status_code == 200


def test_reset_password_ends_sessions_and_sets_the_new_one(
    run: Callable[..., Result],
    make_user: Callable[..., User],
    auth_client: TestClient,
    db: Session,
) -> None:
    make_user()
    old = login(auth_client)
    auth_client.cookies.clear()
    result = run("users", "reset-password", "alice", "--password", NEW_PASSWORD)
    assert result.exit_code == 0, result.output
    assert auth_client.get("/api/auth/me", headers=bearer(old.access)).status_code == 401
    assert db.scalars(select(UserSession)).all() == []
    login(auth_client, password=NEW_PASSWORD)


def test_deactivate_stops_the_user_at_once(
    run: Callable[..., Result], make_user: Callable[..., User], auth_client: TestClient
) -> None:
    user = make_user()
    signed_in = login(auth_client)
    auth_client.cookies.clear()
    result = run("users", "deactivate", str(user.id))
    assert result.exit_code == 0, result.output
    assert auth_client.get("/api/auth/me", headers=bearer(signed_in.access)).status_code == 401
    failed = auth_client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert failed.status_code == 403  # the right password: told the account is deactivated
    assert failed.json()["code"] == "account_deactivated"


def test_unknown_user_is_a_clear_error(run: Callable[..., Result], engine: object) -> None:
    result = run("users", "unlock", "nobody")
    assert result.exit_code == 1
    assert "no user 'nobody'" in result.output


def test_audit_command_lists_events_newest_first(
    run: Callable[..., Result], make_user: Callable[..., User], auth_client: TestClient
) -> None:
    make_user()
    auth_client.post("/api/auth/login", json={"username": "alice", "password": "wrong guess"})
    login(auth_client)
    result = run("audit", "--json", "--action", "login.*")
    assert result.exit_code == 0, result.output
    events = [orjson.loads(line) for line in result.output.splitlines()]
    assert [e["action"] for e in events] == ["login.succeeded", "login.failed"]
    table = run("audit", "--user", "alice")
    assert table.exit_code == 0
    assert "login.failed" in table.output
