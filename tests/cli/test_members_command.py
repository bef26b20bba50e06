"""``playdeck members``: the members service from a shell, with its rules and audit events."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import Result

from playdeck.models import AuditEvent, Project, ProjectMember, User
from tests.fixtures.accounts import insert_project


def _roles(db: Session, project: Project) -> dict[str, str]:
    db.rollback()  # end the read snapshot: see what the command committed
    rows = db.execute(
        select(User.username, ProjectMember.role)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project.id)
    )
    return {username: role for username, role in rows}


def test_add_set_role_and_remove_a_member(
    run_cli: Callable[..., Result],
    make_account: Callable[..., User],
    engine: Engine,
    db: Session,
) -> None:
    web = insert_project(engine, "Web")
    make_account("alice", role="user")

    added = run_cli("members", "add", "web", "alice", "--role", "viewer")
    assert added.exit_code == 0, added.output
    assert _roles(db, web) == {"alice": "viewer"}

    listed = run_cli("members", "list", str(web.id))
    assert listed.exit_code == 0, listed.output
    assert "alice" in listed.output and "viewer" in listed.output

    changed = run_cli("members", "set-role", "web", "alice", "owner")
    assert changed.exit_code == 0, changed.output
    assert _roles(db, web) == {"alice": "owner"}

    make_account("bob", role="user")
    assert run_cli("members", "add", "web", "bob", "--role", "owner").exit_code == 0
    removed = run_cli("members", "remove", "web", "alice")
    assert removed.exit_code == 0, removed.output
    assert _roles(db, web) == {"bob": "owner"}

    db.rollback()
    trail = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    member_events = [e for e in trail if e.action.startswith("member.")]
    assert [e.action for e in member_events] == [
        "member.added",
        "member.role_changed",
        "member.added",
        "member.removed",
    ]
    assert all(e.actor_type == "system" for e in member_events)
    assert all((e.actor_name or "").startswith("cli:") for e in member_events)
    assert member_events[1].details["role"] == ["viewer", "owner"]


def test_the_last_owner_is_neither_removed_nor_demoted(
    run_cli: Callable[..., Result],
    make_account: Callable[..., User],
    engine: Engine,
    db: Session,
) -> None:
    web = insert_project(engine, "Web")
    make_account("alice", role="user")
    assert run_cli("members", "add", "web", "alice", "--role", "owner").exit_code == 0

    removed = run_cli("members", "remove", "web", "alice")
    demoted = run_cli("members", "set-role", "web", "alice", "member")
    assert (removed.exit_code, demoted.exit_code) == (1, 1)
    assert "keeps at least one owner" in removed.output
    assert _roles(db, web) == {"alice": "owner"}


def test_refusals_change_nothing(
    run_cli: Callable[..., Result],
    make_account: Callable[..., User],
    engine: Engine,
    db: Session,
) -> None:
    web = insert_project(engine, "Web")
    make_account("ci", role="reporter")
    make_account("alice", role="user")
    assert run_cli("members", "add", "web", "alice").exit_code == 0

    reporter = run_cli("members", "add", "web", "ci")
    assert reporter.exit_code == 1 and "take no project role" in reporter.output
    twice = run_cli("members", "add", "web", "alice", "--role", "owner")
    assert twice.exit_code == 1 and "already a member" in twice.output
    unknown_project = run_cli("members", "add", "mobile", "alice")
    assert unknown_project.exit_code == 1 and "no project 'mobile'" in unknown_project.output
    unknown_user = run_cli("members", "add", "web", "nobody")
    assert unknown_user.exit_code == 1 and "no user 'nobody'" in unknown_user.output
    bad_role = run_cli("members", "set-role", "web", "alice", "superuser")
    assert bad_role.exit_code == 2 and "no role 'superuser'" in bad_role.output
    not_member = run_cli("members", "remove", "web", "ci")
    assert not_member.exit_code == 1 and "Member not found" in not_member.output

    assert _roles(db, web) == {"alice": "member"}
