"""``playdeck keys create|list|revoke``: the API's service, from a shell, on the database."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import Result

from playdeck.models import ApiKey, AuditEvent, Project, User

from .support import INVALID_KEY, KEY_PATTERN, bearer


@pytest.fixture
def run(run_cli: Callable[..., Result]) -> Callable[..., Result]:
    return run_cli


def test_create_prints_the_key_alone_and_it_works(
    run: Callable[..., Result],
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_project: Callable[[str], Project],
    db: Session,
) -> None:
    make_user("ci", role="reporter")
    shop = make_project("Shop")

    result = run(
        "keys", "create", "ci", "--name", "nightly", "--project", "shop",
        "--scope", "runs:write", "--expires-in-days", "30",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert KEY_PATTERN.fullmatch(key)
    assert f"Created API key pd_{key[3:11]}…" in result.stderr
    assert "not shown again" in result.stderr
    row = db.scalars(select(ApiKey)).one()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert (row.name, row.project_id, row.scopes) == ("nightly", shop.id, ["runs:write"])
    assert row.expires_at is not None
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "api_key.created")).one()
    assert event.actor_name is not None and event.actor_name.startswith("cli:")
    assert event.details["prefix"] == f"pd_{key[3:11]}…"

    me = auth_client.get("/api/auth/me", headers=bearer(key))
    assert me.status_code == 200
    assert me.json()["user"]["username"] == "ci"


def test_list_shows_prefixes_never_keys(
    run: Callable[..., Result], make_user: Callable[..., User]
) -> None:
    make_user("ci", role="reporter")
    make_user("alice")
    ci_key = run("keys", "create", "ci", "--name", "nightly").stdout.strip()
    alice_key = run("keys", "create", "alice", "--name", "laptop", "--scope", "read").stdout.strip()

    everyone = run("keys", "list")
    only_ci = run("keys", "list", "ci")

    assert everyone.exit_code == only_ci.exit_code == 0, everyone.output
    for key in (ci_key, alice_key):
        assert f"pd_{key[3:11]}…" in everyone.stdout
        assert key not in everyone.stdout and key[11:] not in everyone.stdout
    assert "laptop" in everyone.stdout and "read" in everyone.stdout
    assert "nightly" in only_ci.stdout and "laptop" not in only_ci.stdout


def test_revoke_stops_the_key_at_once(
    run: Callable[..., Result],
    auth_client: TestClient,
    make_user: Callable[..., User],
    db: Session,
) -> None:
    make_user("ci", role="reporter")
    key = run("keys", "create", "ci", "--name", "nightly").stdout.strip()
    assert auth_client.get("/api/auth/me", headers=bearer(key)).status_code == 200
    key_id = db.scalars(select(ApiKey.id)).one()

    result = run("keys", "revoke", str(key_id))

    assert result.exit_code == 0, result.output
    assert f"Revoked API key pd_{key[3:11]}…" in result.stdout
    refused = auth_client.get("/api/auth/me", headers=bearer(key))
    assert (refused.status_code, refused.json()["detail"]) == (401, INVALID_KEY)
    assert "revoked" in run("keys", "list").stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("keys", "create", "nobody", "--name", "x"), 1, "no user 'nobody'"),
        (("keys", "create", "ci", "--name", "x", "--scope", "admin"), 2, "scopes"),
        (("keys", "create", "ci", "--name", "x", "--project", "nope"), 1, "Project not found"),
        (("keys", "create", "ci", "--name", " "), 2, "name"),
        (("keys", "revoke", "4242"), 1, "no API key with id 4242"),
    ],
)
def test_mistakes_are_one_line_and_create_nothing(
    run: Callable[..., Result],
    make_user: Callable[..., User],
    db: Session,
    args: tuple[str, ...],
    code: int,
    message: str,
) -> None:
    make_user("ci", role="reporter")
    result = run(*args)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert result.stdout == ""
    assert db.scalars(select(ApiKey)).all() == []
