"""SQL for test identities and their results across runs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from playdeck.models import Project, Result, Run, Test
from playdeck.models.base import UTCDateTime
from playdeck.runs.repository import rows


def get_test(session: Session, test_id: int) -> tuple[Test, Project] | None:
    row = session.execute(
        select(Test, Project).join(Project, Project.id == Test.project_id).where(Test.id == test_id)
    ).first()
    return None if row is None else (row[0], row[1])


def list_history(
    session: Session, *, test_id: int, after: tuple[datetime, int] | None, limit: int
) -> list[Any]:
    """The test's results newest first (index ``ix_results_test_started``), with run fields."""
    query = (
        select(
            Result.id,
            Result.run_id,
            Result.run_started_at,
            Result.outcome,
            Result.duration_ms,
            Result.retry_count,
            Result.error_message,
            Run.name,
            Run.branch,
            Run.commit_sha,
        )
        .join(Run, Run.id == Result.run_id)
        .where(Result.test_id == test_id)
    )
    if after is not None:
        at, result_id = after
        key = tuple_(Result.run_started_at, Result.id)
        query = query.where(key < tuple_(literal(at, UTCDateTime()), result_id))
    query = query.order_by(Result.run_started_at.desc(), Result.id.desc()).limit(limit + 1)
    return list(session.execute(query).all())


def list_tests(
    session: Session,
    *,
    project_id: int,
    pattern: str | None,
    after: tuple[str, int] | None,
    limit: int,
    only: ColumnElement[bool] | None = None,
) -> list[Any]:
    """The project's tests by full title, then id (index ``ix_tests_project_title``): the
    columns of a ``TestRef``, as rows (an ORM object per test costs more than the query);
    ``only`` narrows them (e.g. to the quarantined ones)."""
    query = select(
        Test.id, Test.file, Test.title, Test.title_path, Test.full_title, Test.browser_project
    ).where(Test.project_id == project_id)
    if pattern is not None:
        query = query.where(
            or_(Test.full_title.ilike(pattern, escape="\\"), Test.file.ilike(pattern, escape="\\"))
        )
    if only is not None:
        query = query.where(only)
    if after is not None:
        title, test_id = after
        query = query.where(tuple_(Test.full_title, Test.id) > tuple_(title, test_id))
    query = query.order_by(Test.full_title, Test.id).limit(limit + 1)
    return rows(session, query)


def _latest_results() -> Select[int, str, datetime]:
    latest = (
        select(Result.id)
        .where(Result.test_id == Test.id)
        .order_by(Result.run_started_at.desc(), Result.id.desc())
        .limit(1)
        .correlate(Test)
        .scalar_subquery()
    )
    return (
        select(Test.id, Result.outcome, Result.run_started_at)
        .select_from(Test)
        .join(Result, Result.id == latest)
        .where(Test.id.in_(bindparam("test_ids", expanding=True)))
    )


# Built once, like ``runs.repository``'s statements with an IN list of a page's ids.
_LATEST_RESULTS = _latest_results()


def latest_results(session: Session, test_ids: Sequence[int]) -> dict[int, tuple[str, datetime]]:
    """Each test's latest outcome: one index seek per test, in one statement."""
    if not test_ids:
        return {}
    found = rows(session, _LATEST_RESULTS, {"test_ids": list(test_ids)})
    return {test_id: (outcome, at) for test_id, outcome, at in found}
