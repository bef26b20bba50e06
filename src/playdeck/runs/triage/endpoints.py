"""``/api/projects/{ref}/failure-groups``, ``/api/test-runs/{id}/triage`` and
``/api/test-runs/{id}/compare``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep
from playdeck.kit.pagination import MAX_ID
from playdeck.projects.dependencies import ProjectReader
from playdeck.runs.access import RunAccess, run_access
from playdeck.runs.analytics.endpoints import BranchWindowDep
from playdeck.runs.triage import service
from playdeck.runs.triage.schemas import FailureGroupReport, RunComparison, RunTriage

projects_router = APIRouter(prefix="/api/projects", tags=["triage"])
runs_router = APIRouter(prefix="/api/test-runs", tags=["triage"])

ReadableRun = Annotated[RunAccess, run_access(Permission.PROJECT_READ)]


@projects_router.get("/{ref}/failure-groups", response_model=FailureGroupReport)
def list_failure_groups(
    session: SessionDep, access: ProjectReader, window: BranchWindowDep
) -> FailureGroupReport:
    """The project's failures (failed, timed out, and the failed attempts of flaky tests) over
    ``days`` on ``branch`` (default: the project's default branch; every branch with
    ``all_branches=true``), grouped by error signature: the message with numbers, ids, paths,
    timings and quoted text masked, plus the top stack frames. Most tests affected first."""
    return service.failure_groups(session, project=access.project, window=window)


@runs_router.get("/{run_id}/triage", response_model=RunTriage)
def get_run_triage(session: SessionDep, access: ReadableRun) -> RunTriage:
    """The run's failures as ``new``, ``still_failing`` (also failing in the base run: the
    latest run of the project's default branch before this one) or ``flaky`` (flaky on the
    default branch in the last 30 days), and the tests it ``fixed``."""
    return service.run_triage(session, run=access.run, project=access.project)


@runs_router.get("/{run_id}/compare", response_model=RunComparison)
def compare_runs(
    session: SessionDep,
    access: ReadableRun,
    base: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> RunComparison:
    """What changed from the run ``base`` (default: this run's base run) to this one. Both runs
    must be readable and of one project (422 otherwise; 404 for a base hidden from you)."""
    base_run = service.comparison_base(
        session,
        principal=access.principal,
        head=access.run,
        project=access.project,
        base_id=base,
    )
    return service.compare_runs(session, base=base_run, head=access.run)
