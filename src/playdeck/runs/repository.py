"""SQL for runs and the results of one run.

The list queries select the columns their pages show, as rows: building ORM objects (identity
map, instrumentation, every column converted) cost more than the queries themselves at 500 rows.
They run on the session's connection (``rows``): through the session, even a select of columns
goes through the ORM's result processing, a Python call per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Executable,
    Row,
    Text,
    bindparam,
    cast,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from playdeck.errors import InvalidInput
from playdeck.kit.pagination import as_utc
from playdeck.models import (
    Attachment,
    Attempt,
    Project,
    Report,
    Result,
    Run,
    RunPart,
    Test,
)
from playdeck.models.base import UTCDateTime
from playdeck.outcomes import Outcome, RunStatus
from playdeck.runs.filters import choices, contains_pattern
from playdeck.runs.schemas import RUN_COLUMNS

# A row of selected columns, read by attribute name.
AnyRow = Row[*tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Which runs a list of runs shows (the runs list, its charts): a branch, some statuses,
    started in ``[since, until)``; ``None`` leaves that out."""

    branch: str | None = None
    statuses: Sequence[str] | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def parse(
        cls,
        *,
        branch: str | None,
        status: str | None,
        since: datetime | None,
        until: datetime | None,
    ) -> RunFilter:
        """The filter of a list's query values: ``status`` a comma list of ``RunStatus``
        values, ``since``/``until`` read as UTC when naive; 422 on an unknown status or an
        empty range."""
        where = cls(
            branch=branch,
            statuses=choices(status, RunStatus, name="status"),
            since=as_utc(since) if since is not None else None,
            until=as_utc(until) if until is not None else None,
        )
        if where.since is not None and where.until is not None and where.since >= where.until:
            raise InvalidInput("since must be before until", code="invalid_range")
        return where

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.branch is not None:
            conditions.append(Run.branch == self.branch)
        if self.statuses:
            conditions.append(Run.status.in_(self.statuses))
        if self.since is not None:
            conditions.append(Run.started_at >= self.since)
        if self.until is not None:
            conditions.append(Run.started_at < self.until)
        return conditions


@dataclass(frozen=True, slots=True)
class ResultFilter:
    """Which of a run's results a page shows: some outcomes, a ``LIKE`` pattern on the test's
    title or file, a browser project and a file (exactly), one tag of the result's, one
    result; ``None`` leaves that out."""

    outcomes: Sequence[str] | None = None
    pattern: str | None = None
    browser: str | None = None
    tag: str | None = None
    file: str | None = None
    result_id: int | None = None

    @classmethod
    def parse(
        cls,
        *,
        outcome: str | None = None,
        q: str | None = None,
        browser: str | None = None,
        tag: str | None = None,
        file: str | None = None,
        result_id: int | None = None,
    ) -> ResultFilter:
        """The filter of a page's query values: ``outcome`` a comma list of ``Outcome``
        values (422 on an unknown one), ``q`` text to find in the title or file."""
        return cls(
            outcomes=choices(outcome, Outcome, name="outcome"),
            pattern=contains_pattern(q) if q else None,
            browser=browser,
            tag=tag,
            file=file,
            result_id=result_id,
        )

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.outcomes:
            conditions.append(Result.outcome.in_(self.outcomes))
        if self.pattern is not None:
            conditions.append(
                or_(
                    Test.full_title.ilike(self.pattern, escape="\\"),
                    Test.file.ilike(self.pattern, escape="\\"),
                )
            )
        if self.browser is not None:
            conditions.append(Test.browser_project == self.browser)
        if self.file is not None:
            conditions.append(Test.file == self.file)
        if self.tag is not None:
            # The JSON text holds the tag as a quoted string on SQLite and PostgreSQL alike.
            quoted = contains_pattern(orjson.dumps(self.tag).decode())
            conditions.append(cast(Result.tags, Text).like(quoted, escape="\\"))
        if self.result_id is not None:
            conditions.append(Result.id == self.result_id)
        return conditions


def rows(
    session: Session, statement: Executable, params: Mapping[str, Any] | None = None
) -> list[AnyRow]:
    """The rows of a Core statement, run in the session's transaction."""
    return list(session.connection().execute(statement, params).all())


# What a run summary shows (``schemas.run_fields``): the columns ``schemas.RUN_COLUMNS`` names
# (every one but the metadata and created_at), and its project's reference.
RUN_SUMMARY = (
    *(getattr(Run, name) for name in RUN_COLUMNS),
    Run.project_id,
    Project.name.label("project_name"),
    Project.slug.label("project_slug"),
)


def list_runs(
    session: Session,
    *,
    visible: ColumnElement[bool] | None,
    project_id: int | None,
    where: RunFilter,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[AnyRow]:
    """Run summaries (``RUN_SUMMARY``) newest first by ``(started_at, id)``; one row more than
    ``limit`` tells a next page."""
    query = select(*RUN_SUMMARY).join(Project, Project.id == Run.project_id)
    if project_id is not None:
        query = query.where(Run.project_id == project_id)
    if visible is not None:
        query = query.where(visible)
    query = query.where(*where.conditions())
    if after is not None:
        at, run_id = after
        # A typed bind: a bare datetime in a tuple would skip UTCDateTime's conversion.
        query = query.where(
            tuple_(Run.started_at, Run.id) < tuple_(literal(at, UTCDateTime()), run_id)
        )
    query = query.order_by(Run.started_at.desc(), Run.id.desc()).limit(limit + 1)
    return rows(session, query)


def get_run(session: Session, run_id: int) -> tuple[Run, Project] | None:
    row = session.execute(
        select(Run, Project).join(Project, Project.id == Run.project_id).where(Run.id == run_id)
    ).first()
    return None if row is None else (row[0], row[1])


def list_reports(session: Session, run_id: int) -> list[Report]:
    return list(session.scalars(select(Report).where(Report.run_id == run_id).order_by(Report.id)))


def list_parts(session: Session, run_id: int) -> list[RunPart]:
    return list(
        session.scalars(select(RunPart).where(RunPart.run_id == run_id).order_by(RunPart.id))
    )


def delete_run(session: Session, run: Run) -> None:
    # Results, attempts, attachments, reports and report files go with it (ON DELETE CASCADE).
    session.delete(run)
    session.flush()


def list_results(
    session: Session,
    *,
    run_id: int,
    where: ResultFilter,
    after: tuple[int, int] | None,
    limit: int,
) -> list[AnyRow]:
    """A run's results failures first, by ``(rank, id)`` (index ``ix_results_run_rank``), with
    their tests' identity columns (``test_id``, ``file``, ``title``, ...)."""
    query = (
        select(
            Result.id,
            Result.rank,
            Result.outcome,
            Result.expected_status,
            Result.duration_ms,
            Result.retry_count,
            Result.error_message,
            Result.error_stack,
            Result.location,
            Result.tags,
            Result.annotations,
            Test.id.label("test_id"),
            Test.file,
            Test.title,
            Test.title_path,
            Test.full_title,
            Test.browser_project,
        )
        .join(Test, Test.id == Result.test_id)
        .where(Result.run_id == run_id)
    )
    query = query.where(*where.conditions())
    if after is not None:
        rank, last_id = after
        query = query.where(tuple_(Result.rank, Result.id) > tuple_(rank, last_id))
    query = query.order_by(Result.rank, Result.id).limit(limit + 1)
    return rows(session, query)


def run_facets(
    session: Session, run_id: int, *, limit: int
) -> tuple[list[str], list[str], list[str]]:
    """The browser projects, files and tags of a run's results (each sorted, at most
    ``limit``): the choices of the run page's filters."""
    base = select(Test.browser_project).join(Result, Result.test_id == Test.id)
    browsers = session.scalars(
        base.where(Result.run_id == run_id, Test.browser_project != "")
        .distinct()
        .order_by(Test.browser_project)
        .limit(limit)
    ).all()
    files = session.scalars(
        select(Test.file)
        .join(Result, Result.test_id == Test.id)
        .where(Result.run_id == run_id)
        .distinct()
        .order_by(Test.file)
        .limit(limit)
    ).all()
    # JSON has no equality on PostgreSQL: distinct over its text.
    tag_lists = session.scalars(
        select(cast(Result.tags, Text)).where(Result.run_id == run_id).distinct().limit(limit)
    ).all()
    tags: set[str] = set()
    for raw in tag_lists:
        decoded = orjson.loads(raw) if raw else []
        tags.update(t for t in decoded if isinstance(t, str))
    return list(browsers), list(files), sorted(tags)[:limit]


# Built once: a statement with an IN list of 500 values, built per call, cost more Python time
# than SQLite took to run it.
_ATTEMPTS_OF = (
    select(
        Attempt.id,
        Attempt.result_id,
        Attempt.retry,
        Attempt.status,
        Attempt.duration_ms,
        Attempt.started_at,
        Attempt.error_message,
        Attempt.error_stack,
        Attempt.stdout,
        Attempt.stderr,
        Attempt.steps,
        Attempt.extra,
    )
    .where(Attempt.result_id.in_(bindparam("result_ids", expanding=True)))
    .order_by(Attempt.result_id, Attempt.retry, Attempt.id)
)
_ATTACHMENTS_OF = (
    select(
        Attachment.id,
        Attachment.attempt_id,
        Attachment.name,
        Attachment.content_type,
        Attachment.size,
    )
    .join(Attempt, Attempt.id == Attachment.attempt_id)
    .where(Attempt.result_id.in_(bindparam("result_ids", expanding=True)))
    .order_by(Attachment.attempt_id, Attachment.id)
)


def attempts_of(session: Session, result_ids: Sequence[int]) -> list[AnyRow]:
    """The attempts of the given results, in order, with the columns a page shows."""
    if not result_ids:
        return []
    return rows(session, _ATTEMPTS_OF, {"result_ids": list(result_ids)})


def attachments_of(session: Session, result_ids: Sequence[int]) -> list[AnyRow]:
    """Every attachment of the given results' attempts, in one query."""
    if not result_ids:
        return []
    return rows(session, _ATTACHMENTS_OF, {"result_ids": list(result_ids)})
