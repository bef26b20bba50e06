"""The read side of runs: ``/api/test-runs`` lists, a run's detail and tests, and deletion.

This module's ``router`` is the one ``app.py`` includes; it also carries the routers of the
sibling packages (tests and history, analytics, stored files, triage).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from playdeck.audit.service import Actor
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import BaseUrlDep, BlobStoreDep, CursorQuery, LimitQuery, SessionDep
from playdeck.kit.pagination import DEFAULT_LIMIT
from playdeck.runs import service
from playdeck.runs.access import RunAccess, run_access
from playdeck.runs.analytics.endpoints import router as analytics_router
from playdeck.runs.files.endpoints import router as files_router
from playdeck.runs.filters import SearchQuery
from playdeck.runs.history.endpoints import router as history_router
from playdeck.runs.repository import ResultFilter, RunFilter
from playdeck.runs.schemas import RunDetail, RunPage, RunTestPage
from playdeck.runs.triage.endpoints import projects_router as triage_projects_router
from playdeck.runs.triage.endpoints import runs_router as triage_runs_router

router = APIRouter()
runs_router = APIRouter(prefix="/api/test-runs", tags=["runs"])

ReadableRun = Annotated[RunAccess, run_access(Permission.PROJECT_READ)]


@runs_router.get("", response_model=RunPage)
def list_runs(
    session: SessionDep,
    links: BaseUrlDep,
    principal: Annotated[Principal, authorize(Permission.PROJECT_READ)],
    project: Annotated[str | None, Query(max_length=200, description="Id or slug.")] = None,
    branch: Annotated[str | None, Query(max_length=300)] = None,
    status: Annotated[
        str | None, Query(max_length=200, description="Comma list: passed,failed,...")
    ] = None,
    since: Annotated[datetime | None, Query(description="Started at or after (UTC).")] = None,
    until: Annotated[datetime | None, Query(description="Started before (UTC).")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Response:
    """Runs newest first (``started_at`` desc, ``id`` desc); without ``project``, the runs of
    every project the caller may read."""
    return service.runs_page(
        session,
        principal=principal,
        project_ref=project,
        where=RunFilter.parse(branch=branch, status=status, since=since, until=until),
        cursor=cursor,
        limit=limit,
        base_url=links,
    ).response()


@runs_router.get("/{run_id}", response_model=RunDetail)
def get_run(session: SessionDep, links: BaseUrlDep, access: ReadableRun) -> RunDetail:
    """A run with its counts, metadata and uploaded reports; for a run in parts (`runKey`),
    its parts and which shards arrived."""
    reports = service.list_reports(session, run=access.run)
    parts = service.list_parts(session, run=access.run)
    return RunDetail.of_detail(access.run, access.project, reports, links, parts)


@runs_router.delete("/{run_id}", status_code=204)
def delete_run(
    session: SessionDep,
    store: BlobStoreDep,
    client: ClientDep,
    access: Annotated[RunAccess, run_access(Permission.RUNS_DELETE)],
) -> Response:
    """Delete a run with its results and reports, and the stored files only it referenced."""
    service.delete_run(
        session, run=access.run, store=store, actor=Actor.of(access.principal), client=client
    )
    return Response(status_code=204)


@runs_router.get("/{run_id}/tests", response_model=RunTestPage)
def list_run_tests(
    session: SessionDep,
    access: ReadableRun,
    outcome: Annotated[
        str | None, Query(max_length=200, description="Comma list: failed,flaky,...")
    ] = None,
    q: SearchQuery = None,
    browser: Annotated[
        str | None, Query(max_length=200, description="Browser project, exactly.")
    ] = None,
    tag: Annotated[str | None, Query(max_length=200, description="One tag, e.g. @smoke.")] = None,
    file: Annotated[str | None, Query(max_length=1000, description="Test file, exactly.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Response:
    """The run's test results, failures first (then by id), with attempts and attachments,
    and whether each test is quarantined now (`quarantined`, with the reason and expiry in
    `quarantine`: its failure does not fail CI)."""
    return service.run_tests_page(
        session,
        run=access.run,
        where=ResultFilter.parse(outcome=outcome, q=q, browser=browser, tag=tag, file=file),
        cursor=cursor,
        limit=limit,
    ).response()


router.include_router(runs_router)
router.include_router(history_router)
router.include_router(analytics_router)
router.include_router(files_router)
router.include_router(triage_projects_router)
router.include_router(triage_runs_router)
