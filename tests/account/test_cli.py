"""``playdeck users set-email``: an administrator's address counts as verified (the way to
verify a user's email on a server without mail)."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import AuditEvent, User


def test_set_email_sets_a_verified_address(
    run_cli: Callable[..., Result], make_user: Callable[..., User], db: Session
) -> None:
    alice = make_user("alice", email="alice@example.com")
    db.get(User, alice.id).email_verified_at = None  # type: ignore[union-attr]
    db.commit()
    result = run_cli("users", "set-email", "alice", "Alice@New.Example.org")
    assert result.exit_code == 0, result.output
    assert "alice@new.example.org" in result.output
    db.rollback()
    stored = db.get(User, alice.id)
    assert stored is not None and stored.email == "alice@new.example.org"
    assert stored.email_verified_at is not None
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.updated")).one()
    assert event.actor_type == "system" and (event.actor_name or "").startswith("cli:")
    assert event.details["changes"]["email"] == ["alice@example.com", "alice@new.example.org"]


def test_set_email_refuses_a_taken_address(
    run_cli: Callable[..., Result], make_user: Callable[..., User]
) -> None:
    make_user("alice", email="alice@example.com")
    make_user("bob", email="bob@example.com")
    result = run_cli("users", "set-email", "alice", "bob@example.com")
    assert result.exit_code == 1
    assert "cannot be used" in result.output
