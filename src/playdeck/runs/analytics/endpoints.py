"""``/api/projects/{ref}/flaky`` and ``/api/projects/{ref}/trends``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from playdeck.authz.permissions import Permission
from playdeck.deps import LimitQuery, SessionDep
from playdeck.kit.pagination import DEFAULT_LIMIT
from playdeck.projects.access import ProjectAccess
from playdeck.projects.dependencies import project_access
from playdeck.runs.analytics import service
from playdeck.runs.analytics.schemas import FlakyReport, Trends
from playdeck.runs.repository import RunFilter

router = APIRouter(prefix="/api/projects", tags=["analytics"])

Readable = Annotated[ProjectAccess, project_access(Permission.PROJECT_READ)]
MAX_DAYS = 365
MAX_TREND_RUNS = 500


def branch_window(
    session: SessionDep,
    access: Readable,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
    limit: LimitQuery = DEFAULT_LIMIT,
    branch: Annotated[str | None, Query(min_length=1, max_length=300)] = None,
    all_branches: bool = False,
) -> service.BranchWindow:
    """``branch`` defaults to the project's default branch; ``all_branches=true``: every one."""
    chosen = service.resolve_branch(
        session, access.project, branch=branch, all_branches=all_branches
    )
    return service.BranchWindow(days=days, limit=limit, branch=chosen)


BranchWindowDep = Annotated[service.BranchWindow, Depends(branch_window)]


@router.get("/{ref}/flaky", response_model=FlakyReport)
def list_flaky_tests(session: SessionDep, access: Readable, window: BranchWindowDep) -> FlakyReport:
    """Tests ranked by flake rate on ``branch`` (default: the project's default branch; every
    branch with ``all_branches=true``) over the last ``days``: ``(results that passed only on
    retry + failures on a commit on which the test also passed) / results``. ``broken`` lists
    the tests that only failed there: broken on the branch, not flaky."""
    return service.flaky_tests(session, project=access.project, window=window)


@router.get("/{ref}/trends", response_model=Trends)
def get_trends(
    session: SessionDep,
    access: Readable,
    runs: Annotated[int, Query(ge=1, le=MAX_TREND_RUNS)] = 50,
    branch: Annotated[str | None, Query(max_length=300)] = None,
) -> Trends:
    """The latest ``runs`` runs oldest first: counts, pass rate, duration and the 90th
    percentile of test durations (skipped tests excluded)."""
    return service.trends(
        session, project=access.project, runs=runs, where=RunFilter(branch=branch)
    )
