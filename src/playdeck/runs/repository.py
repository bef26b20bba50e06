"""SQL for runs and the results of one run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from playdeck.models import Attachment, Attempt, Project, Report, ReportFile, Result, Run, Test
from playdeck.models.base import UTCDateTime


def list_runs(
    session: Session,
    *,
    visible: ColumnElement[bool] | None,
    project_id: int | None,
    branch: str | None,
    statuses: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[tuple[Run, Project]]:
    """Newest first by ``(started_at, id)``; one row more than ``limit`` tells a next page."""
    query = select(Run, Project).join(Project, Project.id == Run.project_id)
    if project_id is not None:
        query = query.where(Run.project_id == project_id)
    if visible is not None:
        query = query.where(visible)
    if branch is not None:
        query = query.where(Run.branch == branch)
    if statuses:
        query = query.where(Run.status.in_(statuses))
    if since is not None:
        query = query.where(Run.started_at >= since)
    if until is not None:
        query = query.where(Run.started_at < until)
    if after is not None:
        at, run_id = after
        # A typed bind: a bare datetime in a tuple would skip UTCDateTime's conversion.
        query = query.where(
            tuple_(Run.started_at, Run.id) < tuple_(literal(at, UTCDateTime()), run_id)
        )
    query = query.order_by(Run.started_at.desc(), Run.id.desc()).limit(limit + 1)
    return [(run, project) for run, project in session.execute(query).all()]


def get_run(session: Session, run_id: int) -> tuple[Run, Project] | None:
    row = session.execute(
        select(Run, Project).join(Project, Project.id == Run.project_id).where(Run.id == run_id)
    ).first()
    return None if row is None else (row[0], row[1])


def list_reports(session: Session, run_id: int) -> list[Report]:
    return list(session.scalars(select(Report).where(Report.run_id == run_id).order_by(Report.id)))


def stored_hashes(session: Session, run_id: int) -> set[str]:
    """The blobs a run's attachments and report files point at."""
    hashes = set(session.scalars(select(Attachment.sha256).where(Attachment.run_id == run_id)))
    hashes.update(
        session.scalars(
            select(ReportFile.sha256)
            .join(Report, Report.id == ReportFile.report_id)
            .where(Report.run_id == run_id)
        )
    )
    return hashes


def delete_run(session: Session, run: Run) -> None:
    # Results, attempts, attachments, reports and report files go with it (ON DELETE CASCADE).
    session.delete(run)
    session.flush()


def list_results(
    session: Session,
    *,
    run_id: int,
    outcomes: Sequence[str] | None,
    pattern: str | None,
    after: tuple[int, int] | None,
    limit: int,
) -> list[tuple[Result, Test]]:
    """A run's results failures first, by ``(rank, id)`` (index ``ix_results_run_rank``)."""
    query = (
        select(Result, Test).join(Test, Test.id == Result.test_id).where(Result.run_id == run_id)
    )
    if outcomes:
        query = query.where(Result.outcome.in_(outcomes))
    if pattern is not None:
        query = query.where(
            or_(
                Test.full_title.ilike(pattern, escape="\\"),
                Test.file.ilike(pattern, escape="\\"),
            )
        )
    if after is not None:
        rank, result_id = after
        query = query.where(tuple_(Result.rank, Result.id) > tuple_(rank, result_id))
    query = query.order_by(Result.rank, Result.id).limit(limit + 1)
    return [(result, test) for result, test in session.execute(query).all()]


def attempts_of(session: Session, result_ids: Sequence[int]) -> list[Attempt]:
    if not result_ids:
        return []
    return list(
        session.scalars(
            select(Attempt)
            .where(Attempt.result_id.in_(result_ids))
            .order_by(Attempt.result_id, Attempt.retry, Attempt.id)
        )
    )


def attachments_of(session: Session, result_ids: Sequence[int]) -> list[Attachment]:
    """Every attachment of the given results' attempts, in one query."""
    if not result_ids:
        return []
    return list(
        session.scalars(
            select(Attachment)
            .join(Attempt, Attempt.id == Attachment.attempt_id)
            .where(Attempt.result_id.in_(result_ids))
            .order_by(Attachment.attempt_id, Attachment.id)
        )
    )
