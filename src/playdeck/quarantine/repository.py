"""SQL for quarantines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import Session

from playdeck.models import Quarantine, Result, Test


def _active(now: datetime) -> ColumnElement[bool]:
    return or_(Quarantine.expires_at.is_(None), Quarantine.expires_at > now)


def get(session: Session, test_id: int) -> Quarantine | None:
    """The test's quarantine row, lapsed or not."""
    return session.scalars(select(Quarantine).where(Quarantine.test_id == test_id)).first()


def save(session: Session, row: Quarantine) -> Quarantine:
    session.add(row)
    session.flush()
    return row


def remove(session: Session, test_id: int) -> None:
    session.execute(delete(Quarantine).where(Quarantine.test_id == test_id))


def active_in_project(
    session: Session, project_id: int, now: datetime
) -> list[tuple[Quarantine, Test]]:
    rows = session.execute(
        select(Quarantine, Test)
        .join(Test, Test.id == Quarantine.test_id)
        .where(Quarantine.project_id == project_id, _active(now))
        .order_by(Test.full_title, Test.id)
    ).all()
    return [(q, t) for q, t in rows]


def run_results(session: Session, run_id: int) -> list[tuple[Result, Test]]:
    rows = session.execute(
        select(Result, Test)
        .join(Test, Test.id == Result.test_id)
        .where(Result.run_id == run_id)
        .order_by(Test.full_title, Test.id)
    ).all()
    return [(r, t) for r, t in rows]


def active_test_ids(session: Session, project_id: int, now: datetime) -> dict[int, Quarantine]:
    rows = session.scalars(
        select(Quarantine).where(Quarantine.project_id == project_id, _active(now))
    ).all()
    return {row.test_id: row for row in rows}


def active_of_tests(
    session: Session, project_id: int, test_ids: Sequence[int], now: datetime
) -> dict[int, Quarantine]:
    """The quarantines in force among ``test_ids`` (of ``project_id``), by test id."""
    if not test_ids:
        return {}
    rows = session.scalars(
        select(Quarantine).where(
            Quarantine.project_id == project_id, Quarantine.test_id.in_(test_ids), _active(now)
        )
    ).all()
    return {row.test_id: row for row in rows}


def active_in_run(
    session: Session, project_id: int, run_id: int, now: datetime
) -> list[tuple[Quarantine, str]]:
    """The quarantines in force on the run's tests, each with its result's outcome: one
    statement, driven by the project's (few) quarantines."""
    rows = session.execute(
        select(Quarantine, Result.outcome)
        .join(Result, Result.test_id == Quarantine.test_id)
        .where(Quarantine.project_id == project_id, Result.run_id == run_id, _active(now))
    ).all()
    return [(q, outcome) for q, outcome in rows]


def active_filter(project_id: int, now: datetime) -> ColumnElement[bool]:
    """A condition on ``Test`` that holds for the project's tests quarantined now."""
    return Test.id.in_(
        select(Quarantine.test_id).where(Quarantine.project_id == project_id, _active(now))
    )
