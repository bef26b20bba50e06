"""``/api/tests/{id}``, ``/api/tests/{id}/history`` and ``/api/projects/{ref}/tests``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import CursorQuery, LimitQuery, SessionDep
from playdeck.kit.pagination import DEFAULT_LIMIT
from playdeck.projects.dependencies import ProjectReader
from playdeck.runs.filters import IdPath, SearchQuery
from playdeck.runs.history import service
from playdeck.runs.history.schemas import HistoryPage, ProjectTestPage, TestDetail

router = APIRouter(tags=["tests"])


@router.get("/api/tests/{test_id}", response_model=TestDetail)
def get_test(
    test_id: IdPath,
    session: SessionDep,
    principal: Annotated[Principal, authorize(Permission.PROJECT_READ)],
) -> TestDetail:
    """A test's stable identity (file, describe path, title, browser project) and project."""
    test, project = service.get_test(session, principal=principal, test_id=test_id)
    return service.describe_test(test, project)


@router.get("/api/tests/{test_id}/history", response_model=HistoryPage)
def get_test_history(
    test_id: IdPath,
    session: SessionDep,
    principal: Annotated[Principal, authorize(Permission.PROJECT_READ)],
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> HistoryPage:
    """This test's results across runs, newest first, with each run's branch and commit."""
    test, _project = service.get_test(session, principal=principal, test_id=test_id)
    return service.list_history(session, test=test, cursor=cursor, limit=limit)


@router.get("/api/projects/{ref}/tests", response_model=ProjectTestPage)
def list_project_tests(
    session: SessionDep,
    access: ProjectReader,
    q: SearchQuery = None,
    days: Annotated[int, Query(ge=1, le=365, description="Window of the flake rate.")] = 30,
    quarantined: Annotated[
        bool, Query(description="Only the tests quarantined now (not lapsed).")
    ] = False,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Response:
    """The project's tests by full title, with the latest outcome and flakiness of each, and
    whether it is quarantined now (`quarantined`, with the reason and expiry in
    `quarantine`)."""
    return service.project_tests_page(
        session,
        project=access.project,
        q=q,
        days=days,
        cursor=cursor,
        limit=limit,
        quarantined=quarantined,
    ).response()
