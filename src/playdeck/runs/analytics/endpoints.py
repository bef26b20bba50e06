"""``/api/projects/{ref}/flaky`` and ``/api/projects/{ref}/trends``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import authorize
from playdeck.deps import SessionDep
from playdeck.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from playdeck.projects.service import get_project
from playdeck.runs.analytics import service
from playdeck.runs.analytics.schemas import FlakyReport, Trends

router = APIRouter(prefix="/api/projects", tags=["analytics"])

MAX_DAYS = 365
MAX_TREND_RUNS = 500


@router.get("/{ref}/flaky", response_model=FlakyReport)
def list_flaky_tests(
    ref: str,
    session: SessionDep,
    principal: Annotated[Principal, authorize(Permission.PROJECT_READ)],
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> FlakyReport:
    """Tests ranked by flake rate over the last ``days``: ``(flaky results + pass/fail flips
    between consecutive runs) / runs of the test``. Tests with neither are not listed."""
    project = get_project(session, principal=principal, ref=ref, permission=Permission.PROJECT_READ)
    return service.flaky_tests(session, project=project, days=days, limit=limit)


@router.get("/{ref}/trends", response_model=Trends)
def get_trends(
    ref: str,
    session: SessionDep,
    principal: Annotated[Principal, authorize(Permission.PROJECT_READ)],
    runs: Annotated[int, Query(ge=1, le=MAX_TREND_RUNS)] = 50,
    branch: Annotated[str | None, Query(max_length=300)] = None,
) -> Trends:
    """The latest ``runs`` runs oldest first: counts, pass rate, duration and the 90th
    percentile of test durations (skipped tests excluded)."""
    project = get_project(session, principal=principal, ref=ref, permission=Permission.PROJECT_READ)
    return service.trends(session, project=project, runs=runs, branch=branch)
