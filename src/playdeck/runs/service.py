"""Run use cases: list, read and delete runs, and page through one run's results."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy.orm import Session

from playdeck.audit import service as audit
from playdeck.audit.service import Action, Actor
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import require_project, visible_projects
from playdeck.errors import InvalidInput, NotFound
from playdeck.kit.pagination import as_utc, cursor_int, decode_cursor, encode_cursor
from playdeck.models import Attachment, Project, Report, Run
from playdeck.outcomes import Outcome, RunStatus
from playdeck.projects.service import get_project
from playdeck.runs import repository, schemas
from playdeck.runs.filters import choices, contains_pattern, encode_time_id, time_id_cursor
from playdeck.storage.base import BlobStore
from playdeck.storage.gc import cleanup_after_commit


def list_runs(
    session: Session,
    *,
    principal: Principal,
    project_ref: str | None,
    branch: str | None,
    status: str | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[tuple[Run, Project]], str | None]:
    """Runs newest first; of one project, or of every project ``principal`` may read."""
    statuses = choices(status, RunStatus, name="status")
    since = as_utc(since) if since is not None else None
    until = as_utc(until) if until is not None else None
    if since is not None and until is not None and since >= until:
        raise InvalidInput("since must be before until", code="invalid_range")
    project_id = None
    if project_ref is not None:
        project = get_project(
            session, principal=principal, ref=project_ref, permission=Permission.PROJECT_READ
        )
        project_id = project.id
    rows = repository.list_runs(
        session,
        visible=None if project_id is not None else visible_projects(principal),
        project_id=project_id,
        branch=branch,
        statuses=statuses,
        since=since,
        until=until,
        after=time_id_cursor(cursor),
        limit=limit,
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1][0]
        next_cursor = encode_time_id(last.started_at, last.id)
    return rows, next_cursor


def get_run(
    session: Session,
    *,
    principal: Principal,
    run_id: int,
    permission: Permission = Permission.PROJECT_READ,
) -> tuple[Run, Project]:
    """The run and its project; 404 when missing or in a project hidden from ``principal``."""
    found = repository.get_run(session, run_id)
    if found is None:
        raise NotFound("Run not found")
    require_project(session, principal, permission, found[1].id, missing="Run not found")
    return found


def list_reports(session: Session, *, run: Run) -> list[Report]:
    return repository.list_reports(session, run.id)


def delete_run(
    session: Session,
    *,
    run: Run,
    store: BlobStore,
    actor: Actor,
    client: ClientInfo | None = None,
) -> None:
    """Delete the run's rows now; once that commits, the files no other row references.
    Audit-logged (``run.deleted``)."""
    audit.record(
        session,
        action=Action.RUN_DELETED,
        actor=actor,
        client=client,
        details={"run_id": run.id, "project_id": run.project_id, "pinned": run.pinned},
    )
    hashes = repository.stored_hashes(session, run.id)
    repository.delete_run(session, run)
    cleanup_after_commit(session, store, hashes)


def list_run_tests(
    session: Session,
    *,
    run: Run,
    outcome: str | None,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[schemas.RunTest], str | None]:
    """A page of the run's results, failures first, each with attempts and attachments.

    Three queries whatever the page size: results with their tests, the attempts of the page,
    the attachments of those attempts.
    """
    outcomes = choices(outcome, Outcome, name="outcome")
    raw = decode_cursor(cursor, arity=2)
    after = (cursor_int(raw[0]), cursor_int(raw[1])) if raw else None
    pattern = contains_pattern(q) if q else None
    rows = repository.list_results(
        session, run_id=run.id, outcomes=outcomes, pattern=pattern, after=after, limit=limit
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1][0]
        next_cursor = encode_cursor([last.rank, last.id])

    result_ids = [result.id for result, _test in rows]
    files: defaultdict[int, list[Attachment]] = defaultdict(list)
    for attachment in repository.attachments_of(session, result_ids):
        files[attachment.attempt_id].append(attachment)
    attempts: defaultdict[int, list[schemas.Attempt]] = defaultdict(list)
    for attempt in repository.attempts_of(session, result_ids):
        attempts[attempt.result_id].append(schemas.Attempt.of(attempt, files[attempt.id]))

    items = [
        schemas.RunTest(
            id=result.id,
            test=schemas.TestRef.of(test),
            outcome=result.outcome,
            expected_status=result.expected_status,
            duration_ms=result.duration_ms,
            retry_count=result.retry_count,
            error_message=result.error_message,
            error_stack=result.error_stack,
            location=result.location,
            tags=list(result.tags),
            annotations=list(result.annotations),
            attempts=attempts[result.id],
        )
        for result, test in rows
    ]
    return items, next_cursor
