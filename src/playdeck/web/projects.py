"""``/projects`` (list, search, create) and ``/projects/{slug}`` (runs, trends, durations)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.errors import AppError
from playdeck.models import Project
from playdeck.outcomes import RunStatus
from playdeck.projects import service as projects_service
from playdeck.projects.dependencies import ProjectReader
from playdeck.projects.schemas import ProjectCreate
from playdeck.runs import service as runs_service
from playdeck.runs.analytics import service as analytics_service
from playdeck.runs.analytics.schemas import TrendPoint
from playdeck.runs.repository import RunFilter
from playdeck.web import charts, queries
from playdeck.web.context import pager, project_page
from playdeck.web.errors import Page
from playdeck.web.forms import PostDep, page_on, parse_form, refusals_on
from playdeck.web.params import (
    CursorQuery,
    TextFilters,
    TextQuery,
    day,
    day_after,
    day_start,
    may,
    text,
)
from playdeck.web.rendering import (
    format_day,
    format_duration,
    format_utc,
    render,
    set_flash,
)
from playdeck.web.views import PageView, ProjectLister, ViewDep

router = APIRouter()

PROJECTS_PER_PAGE = 50
RUNS_PER_PAGE = 30
TREND_RUNS = 60


@dataclass(slots=True)
class ProjectForm:
    name: str = ""
    description: str = ""
    error: str | None = None


def _projects_page(
    view: PageView,
    principal: Principal,
    *,
    q: str | None,
    cursor: str | None,
    form: ProjectForm,
    status_code: int = 200,
) -> HTMLResponse:
    request, q = view.request, text(q)
    projects, next_cursor = projects_service.list_projects(
        view.session, principal=principal, q=q, cursor=cursor, limit=PROJECTS_PER_PAGE
    )
    return render(
        request,
        "projects/list.html",
        principal=principal,
        status_code=status_code,
        projects=projects,
        q=q or "",
        form=form,
        can_create=may(principal, Permission.PROJECT_CREATE, view.settings),
        **pager(request, cursor=cursor, next_cursor=next_cursor),
    )


@router.get("/projects", response_class=HTMLResponse)
def list_projects(
    view: ViewDep, principal: ProjectLister, q: TextQuery = None, cursor: CursorQuery = None
) -> HTMLResponse:
    return _projects_page(view, principal, q=q, cursor=cursor, form=ProjectForm())


def _projects_page_on(view: PageView, principal: Principal, form: ProjectForm) -> Page:
    def show(reading: PageView, refusal: AppError) -> Response:
        form.error = refusal.detail
        return _projects_page(
            reading, principal, q=None, cursor=None, form=form, status_code=refusal.status
        )

    return page_on(view, show)


@router.post("/projects", response_class=HTMLResponse, response_model=None)
def create_project(
    post: PostDep,
    principal: Annotated[Principal, authorize(Permission.PROJECT_CREATE)],
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    """Create a project from the form. The form carries ``csrf_token``: with authentication on,
    the session-cookie check in ``auth.credentials`` reads it before this handler runs."""
    form = ProjectForm(name=name, description=description)
    with refusals_on(_projects_page_on(post, principal, form)):
        data = parse_form(ProjectCreate, {"name": name, "description": text(description)})
        project = projects_service.create_project(post.session, data=data, principal=principal)
    response = RedirectResponse(f"/projects/{project.slug}", status_code=303)
    set_flash(response, "project-created")
    return response


@dataclass(frozen=True, slots=True)
class RunFilters(TextFilters):
    """The runs table's filters (they select the charts' runs too)."""

    branch: TextQuery = None
    status: TextQuery = None
    since: TextQuery = None
    until: TextQuery = None

    def where(self) -> RunFilter:
        """The runs they select: ``since`` and ``until`` are days (UTC), both included; 422
        on a malformed day, an unknown status or an empty range."""
        return RunFilter.parse(
            branch=self.branch,
            status=self.status,
            since=day_start(day(self.since, name="From")),
            until=day_after(day(self.until, name="To")),
        )


class RunTimed(Protocol):
    """A point of a duration chart: a run (or a result in it), when it started, how long."""

    @property
    def run_id(self) -> int: ...
    @property
    def started_at(self) -> datetime: ...
    @property
    def duration_ms(self) -> int: ...


def duration_chart(items: Sequence[RunTimed], *, label: str) -> Markup:
    """The duration line of ``items``, oldest first; each point says its run, start and
    duration."""
    return charts.line_chart(
        [
            charts.Point(
                value=i.duration_ms,
                label=(
                    f"Run #{i.run_id}, {format_utc(i.started_at)}: {format_duration(i.duration_ms)}"
                ),
                when=format_day(i.started_at),
            )
            for i in items
        ],
        label=label,
        top_label=format_duration,
    )


def trend_charts(project: Project, points: list[TrendPoint], where: str) -> tuple[Markup, Markup]:
    """The outcome bars and the duration line of ``points``; ``where`` says which runs they
    are (" on main", say) in the charts' names."""
    bars = [
        charts.RunBar(
            when=format_day(p.started_at),
            label=(
                f"Run #{p.run_id}, {format_utc(p.started_at)} ({p.status}): "
                f"{p.counts.passed} passed, "
                f"{p.counts.failing} failed, "
                f"{p.counts.flaky} flaky, {p.counts.skipped} skipped"
            ),
            passed=p.counts.passed,
            failed=p.counts.failing,
            flaky=p.counts.flaky,
            skipped=p.counts.skipped,
        )
        for p in points
    ]
    span = f"from {bars[0].when} to {bars[-1].when}" if bars else "none yet"
    failing = sum(1 for p in points if p.counts.failing)
    longest = max((p.duration_ms for p in points), default=0)
    return (
        charts.run_bars(
            bars,
            label=(
                f"Outcomes of the last {len(points)} runs of {project.name}{where}, {span}: "
                f"{failing} with failures"
            ),
        ),
        duration_chart(
            points,
            label=(
                f"Duration of the last {len(points)} runs of {project.name}{where}, {span}: "
                f"longest {format_duration(longest)}"
            ),
        ),
    )


@router.get("/projects/{ref}", response_class=HTMLResponse)
def show_project(
    view: ViewDep,
    access: ProjectReader,
    filters: Annotated[RunFilters, Depends()],
    cursor: CursorQuery = None,
) -> HTMLResponse:
    request, session = view.request, view.session
    project, principal = access.project, access.principal
    where = filters.where()
    runs, next_cursor = runs_service.list_runs(
        session,
        principal=principal,
        project_ref=str(project.id),
        where=where,
        cursor=cursor,
        limit=RUNS_PER_PAGE,
        base_url="",
    )
    # The charts show the runs the filters select, as the table does.
    trend = analytics_service.trends(session, project=project, runs=TREND_RUNS, where=where)
    named = f" on {filters.branch}" if filters.branch else ""
    if filters.status or filters.since or filters.until:
        named += " (filtered)"
    bars, durations = trend_charts(project, trend.items, named)
    longest = max((p.duration_ms for p in trend.items), default=0)
    return project_page(
        view,
        principal,
        project,
        "projects/runs.html",
        tab="runs",
        runs=runs,
        counts_bar=charts.counts_bar,
        filters=filters,
        statuses=tuple(RunStatus),
        branches=queries.branches(session, project.id),
        trend_count=len(trend.items),
        trend_bars=bars,
        duration_chart=durations,
        longest=longest,
        empty_project=not runs and not filters.active and not cursor,
        server=view.links,
        **pager(request, cursor=cursor, next_cursor=next_cursor),
        clear_url=request.url.path,
    )
