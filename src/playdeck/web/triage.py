"""Triage pages: a project's failure groups (``/projects/{slug}/failures``) and a run against
its base run or any other run (``/runs/{id}/compare``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from playdeck.kit.pagination import MAX_ID
from playdeck.projects.dependencies import ProjectReader
from playdeck.runs.analytics import service as analytics_service
from playdeck.runs.triage import service as triage_service
from playdeck.web.branch_window import WindowDep, window_choices
from playdeck.web.context import project_page
from playdeck.web.rendering import render
from playdeck.web.views import RunReader, ViewDep

router = APIRouter()

GROUPS_SHOWN = 100


@router.get("/projects/{ref}/failures", response_class=HTMLResponse)
def show_failure_groups(view: ViewDep, access: ProjectReader, window: WindowDep) -> HTMLResponse:
    """Failures grouped by error across tests and runs, most tests affected first."""
    session, project = view.session, access.project
    report = triage_service.failure_groups(
        session, project=project, window=window.limited(GROUPS_SHOWN)
    )
    return project_page(
        view,
        access.principal,
        project,
        "projects/failures.html",
        tab="failures",
        report=report,
        **window_choices(view.request, session, project),
        default_branch=analytics_service.default_branch(session, project),
    )


@router.get("/runs/{run_id}/compare", response_class=HTMLResponse)
def show_comparison(
    view: ViewDep, access: RunReader, base: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> HTMLResponse:
    """This run against its base run (the default branch's latest before it) or ``base``."""
    request, session = view.request, view.session
    run, project, principal = access.run, access.project, access.principal
    # Against the base run: the failures classified too. Against a chosen run: the diff only.
    triage = triage_service.run_triage(session, run=run, project=project) if base is None else None
    comparison = None
    if base is not None or (triage is not None and triage.base_run is not None):
        other = triage_service.comparison_base(
            session, principal=principal, head=run, project=project, base_id=base
        )
        comparison = triage_service.compare_runs(session, base=other, head=run)
    return render(
        request,
        "runs/compare.html",
        principal=principal,
        project=project,
        run=triage_service.brief(run),
        triage=triage,
        comparison=comparison,
    )
