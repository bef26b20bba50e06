"""Run use cases: list, read and delete runs, and page through one run's results."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Actor, Trail
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import visible_projects
from playdeck.kit.clock import utcnow
from playdeck.kit.pagination import cursor_int, decode_cursor, encode_cursor
from playdeck.models import Project, Quarantine, Report, Run, RunPart
from playdeck.outcomes import FAILING_OUTCOMES, Outcome
from playdeck.projects.access import found_in_project
from playdeck.projects.service import get_project
from playdeck.quarantine import repository as quarantines
from playdeck.quarantine.schemas import marks_of
from playdeck.runs import repository, schemas
from playdeck.runs.filters import encode_time_id, time_id_cursor
from playdeck.runs.pages import Page, as_items, cut_page
from playdeck.storage.base import BlobStore
from playdeck.storage.gc import cleanup_after_commit, file_hashes


def runs_page(
    session: Session,
    *,
    principal: Principal,
    project_ref: str | None,
    where: repository.RunFilter,
    cursor: str | None,
    limit: int,
    base_url: str,
) -> Page:
    """Runs newest first (``Run`` fields) that ``where`` selects; of one project, or of every
    project ``principal`` may read."""
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
        where=where,
        after=time_id_cursor(cursor),
        limit=limit,
    )
    rows, next_cursor = cut_page(rows, limit, lambda last: encode_time_id(last.started_at, last.id))
    items = [
        schemas.run_fields(run, _project_ref(run), base_url) for run in (r._mapping for r in rows)
    ]
    return Page(items, next_cursor)


list_runs = as_items(schemas.RUNS, runs_page)


def _project_ref(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {"id": row["project_id"], "name": row["project_name"], "slug": row["project_slug"]}


def get_run(
    session: Session,
    *,
    principal: Principal,
    run_id: int,
    permission: Permission = Permission.PROJECT_READ,
) -> tuple[Run, Project]:
    """The run and its project; 404 when missing or in a project hidden from ``principal``."""
    return found_in_project(
        session,
        principal,
        repository.get_run(session, run_id),
        permission=permission,
        missing="Run not found",
    )


def list_reports(session: Session, *, run: Run) -> list[Report]:
    return repository.list_reports(session, run.id)


def list_parts(session: Session, *, run: Run) -> list[RunPart]:
    """The parts of a run in parts (uploads of a run key, live sessions); none for others."""
    return repository.list_parts(session, run.id)


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
    Trail(session, actor, client).record(
        Action.RUN_DELETED, run_id=run.id, project_id=run.project_id, pinned=run.pinned
    )
    hashes = file_hashes(session, [run.id])
    repository.delete_run(session, run)
    cleanup_after_commit(session, store, hashes)


@dataclass(frozen=True, slots=True)
class RunFacets:
    """What a run's results can be filtered by."""

    browsers: list[str]
    files: list[str]
    tags: list[str]


def run_facets(session: Session, *, run: Run, limit: int = 200) -> RunFacets:
    browsers, files, tags = repository.run_facets(session, run.id, limit=limit)
    return RunFacets(browsers=browsers, files=files, tags=tags)


def run_tests_page(
    session: Session,
    *,
    run: Run,
    where: repository.ResultFilter,
    cursor: str | None,
    limit: int,
    quarantine: RunQuarantine | None = None,
) -> Page:
    """A page of the run's results (``RunTest`` fields) that ``where`` selects, failures first,
    each with attempts and attachments and its test's quarantine. ``quarantine``: the run's,
    when the caller has already loaded it.

    Four queries whatever the page size: results with their tests, the attempts of the page,
    the attachments of those attempts, the run's quarantines.
    """
    raw = decode_cursor(cursor, arity=2)
    after = (cursor_int(raw[0]), cursor_int(raw[1])) if raw else None
    rows = repository.list_results(session, run_id=run.id, where=where, after=after, limit=limit)
    rows, next_cursor = cut_page(rows, limit, lambda last: encode_cursor([last.rank, last.id]))

    result_ids = [row.id for row in rows]
    files: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for attachment in repository.attachments_of(session, result_ids):
        files[attachment.attempt_id].append(schemas.attachment_fields(attachment._mapping))
    attempts: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for attempt in repository.attempts_of(session, result_ids):
        attempts[attempt.result_id].append(
            schemas.attempt_fields(attempt._mapping, files[attempt.id])
        )
    marks = (quarantine or run_quarantine(session, run=run)).by_test
    items = [
        schemas.run_test_fields(row, attempts[row["id"]]) | marks_of(marks.get(row["test_id"]))
        for row in (r._mapping for r in rows)
    ]
    return Page(items, next_cursor)


list_run_tests = as_items(schemas.RUN_TESTS, run_tests_page)


@dataclass(frozen=True, slots=True)
class RunQuarantine:
    """The quarantines in force on a run's tests, and how many of its failures they excuse."""

    by_test: Mapping[int, Quarantine]
    failures: int


def run_quarantine(session: Session, *, run: Run) -> RunQuarantine:
    """The run's quarantined tests, in one query (quarantines lapsed by now do not count)."""
    rows = quarantines.active_in_run(session, run.project_id, run.id, utcnow())
    return RunQuarantine(
        by_test={row.test_id: row for row, _ in rows},
        failures=sum(1 for _, outcome in rows if Outcome(outcome) in FAILING_OUTCOMES),
    )
