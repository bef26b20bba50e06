"""``/``: every project the viewer may read, with its latest run and a pass-rate sparkline."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from playdeck.models import Project, Run
from playdeck.outcomes import RunStatus
from playdeck.projects.service import list_projects
from playdeck.runs.schemas import run_pass_rate
from playdeck.web import charts, queries
from playdeck.web.context import pager
from playdeck.web.params import CursorQuery
from playdeck.web.rendering import render
from playdeck.web.views import ProjectLister, ViewDep

router = APIRouter()

PROJECTS_PER_PAGE = 24
SPARKLINE_RUNS = 20


@dataclass(frozen=True, slots=True)
class ProjectCard:
    project: Project
    latest: Run | None
    pass_rate: float | None
    sparkline: Markup | None
    recent: int = 0
    recent_failed: int = 0  # ended without passing (failed, cut short, incomplete)
    recent_running: int = 0

    @classmethod
    def of(cls, project: Project, runs: list[Run]) -> ProjectCard:
        if not runs:
            return cls(project=project, latest=None, pass_rate=None, sparkline=None)
        rates = [run_pass_rate(run) for run in runs]
        spark = charts.sparkline(
            rates, label=f"Pass rate of the last {len(runs)} runs of {project.name}"
        )
        return cls(
            project=project,
            latest=runs[-1],
            pass_rate=rates[-1],
            sparkline=spark,
            recent=len(runs),
            recent_failed=sum(
                1 for run in runs if run.status not in (RunStatus.PASSED, RunStatus.RUNNING)
            ),
            recent_running=sum(1 for run in runs if run.status == RunStatus.RUNNING),
        )


@router.get("/", response_class=HTMLResponse)
def show_overview(
    view: ViewDep, principal: ProjectLister, cursor: CursorQuery = None
) -> HTMLResponse:
    request, session = view.request, view.session
    projects, next_cursor = list_projects(
        session, principal=principal, q=None, cursor=cursor, limit=PROJECTS_PER_PAGE
    )
    recent = queries.recent_runs(session, [p.id for p in projects], per_project=SPARKLINE_RUNS)
    cards = [ProjectCard.of(p, recent[p.id]) for p in projects]
    return render(
        request,
        "overview.html",
        principal=principal,
        cards=cards,
        server=view.links,
        **pager(request, cursor=cursor, next_cursor=next_cursor),
    )
