"""A project's tests (``/projects/{slug}/tests``), one test's history (``/tests/{id}``) and the
flaky ranking (``/projects/{slug}/flaky``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from playdeck.authz.permissions import Permission
from playdeck.authz.service import project_permissions
from playdeck.projects.dependencies import ProjectReader
from playdeck.quarantine import service as quarantine_service
from playdeck.runs.analytics import service as analytics_service
from playdeck.runs.history import service as history_service
from playdeck.runs.history.schemas import HistoryEntry
from playdeck.web import charts
from playdeck.web.branch_window import DEFAULT_DAYS, WindowDep, window_choices
from playdeck.web.context import pager, project_page
from playdeck.web.params import (
    CursorQuery,
    TextQuery,
    page_id,
    text,
)
from playdeck.web.projects import duration_chart
from playdeck.web.quarantine import EXPIRY_DAYS
from playdeck.web.rendering import format_day, format_duration, format_utc, render, with_query
from playdeck.web.views import Reader, ViewDep

router = APIRouter()

TESTS_PER_PAGE = 50
# The tests list's flake rates cover the flaky page's default window.
FLAKE_DAYS = DEFAULT_DAYS
STRIP_RESULTS = 50
HISTORY_PER_PAGE = 50
RECENT_ERRORS = 5
FLAKY_STEP = 50
FLAKY_MAX = 500


@router.get("/projects/{ref}/tests", response_class=HTMLResponse)
def list_project_tests(
    view: ViewDep,
    access: ProjectReader,
    q: TextQuery = None,
    quarantined: Annotated[bool, Query()] = False,
    cursor: CursorQuery = None,
) -> HTMLResponse:
    q = text(q)
    page = history_service.list_project_tests(
        view.session,
        project=access.project,
        q=q,
        days=FLAKE_DAYS,
        cursor=cursor,
        limit=TESTS_PER_PAGE,
        quarantined=quarantined,
    )
    return project_page(
        view,
        access.principal,
        access.project,
        "projects/tests.html",
        tab="tests",
        tests=page.items,
        days=page.days,
        q=q or "",
        quarantined=quarantined,
        rate_bar=charts.rate_bar,
        **pager(view.request, cursor=cursor, next_cursor=page.next_cursor),
    )


@dataclass(frozen=True, slots=True)
class RecentError:
    message: str
    times: int
    latest: HistoryEntry


def recent_errors(entries: list[HistoryEntry], *, limit: int) -> list[RecentError]:
    """Distinct error messages, most recent first, each with how often it occurred."""
    counts = Counter(e.error_message for e in entries if e.error_message)
    seen: dict[str, RecentError] = {}
    for entry in entries:
        message = entry.error_message
        if message and message not in seen:
            seen[message] = RecentError(message=message, times=counts[message], latest=entry)
    return list(seen.values())[:limit]


def _entry_label(entry: HistoryEntry) -> str:
    where = f" on {entry.branch}" if entry.branch else ""
    return (
        f"{entry.outcome} in run #{entry.run_id}{where}, {format_utc(entry.started_at)}, "
        f"{format_duration(entry.duration_ms)}"
    )


def _duration_label(oldest_first: list[HistoryEntry]) -> str:
    """The duration chart's name: what it shows, over which days, and its largest value."""
    if not oldest_first:
        return "Duration: no results yet"
    longest = max(e.duration_ms for e in oldest_first)
    return (
        f"Duration of the last {len(oldest_first)} results, from "
        f"{format_day(oldest_first[0].started_at)} to {format_day(oldest_first[-1].started_at)}: "
        f"longest {format_duration(longest)}"
    )


@router.get("/tests/{test_id}", response_class=HTMLResponse)
def show_test(
    test_id: str, view: ViewDep, principal: Reader, cursor: CursorQuery = None
) -> HTMLResponse:
    request, session = view.request, view.session
    test, project = history_service.get_test(
        session, principal=principal, test_id=page_id(test_id, what="Test")
    )
    latest = history_service.list_history(session, test=test, cursor=None, limit=STRIP_RESULTS)
    page = (
        history_service.list_history(session, test=test, cursor=cursor, limit=HISTORY_PER_PAGE)
        if cursor
        else latest
    )
    oldest_first = list(reversed(latest.items))
    outcomes = Counter(e.outcome for e in latest.items)
    return render(
        request,
        "tests/detail.html",
        principal=principal,
        project=project,
        test=history_service.describe_test(test, project),
        strip=charts.history_strip(
            [
                charts.Cell(outcome=e.outcome, label=_entry_label(e), href=f"/runs/{e.run_id}")
                for e in oldest_first
            ],
            label=f"Outcomes of the last {len(oldest_first)} results, oldest first",
        ),
        durations=duration_chart(oldest_first, label=_duration_label(oldest_first)),
        longest=max((e.duration_ms for e in latest.items), default=0),
        strip_count=len(latest.items),
        outcomes=sorted(outcomes.items(), key=lambda kv: -kv[1]),
        errors=recent_errors(latest.items, limit=RECENT_ERRORS),
        history=page.items,
        **pager(request, cursor=cursor, next_cursor=page.next_cursor),
        quarantine=quarantine_service.active(session, test=test),
        may_quarantine=Permission.TESTS_QUARANTINE
        in project_permissions(session, principal, project.id),
        expiry_days=EXPIRY_DAYS,
    )


@router.get("/projects/{ref}/flaky", response_class=HTMLResponse)
def show_flaky_tests(
    view: ViewDep,
    access: ProjectReader,
    window: WindowDep,
    limit: Annotated[int, Query(ge=1, le=FLAKY_MAX)] = FLAKY_STEP,
) -> HTMLResponse:
    request, session, project = view.request, view.session, access.project
    # One more than shown tells whether a "show more" link leads anywhere.
    report = analytics_service.flaky_tests(
        session, project=project, window=window.limited(limit + 1)
    )
    more = len(report.items) > limit or len(report.broken) > limit
    report.items = report.items[:limit]
    report.broken = report.broken[:limit]
    return project_page(
        view,
        access.principal,
        project,
        "projects/flaky.html",
        tab="flaky",
        report=report,
        **window_choices(request, session, project, limit=None),
        rate_bar=charts.rate_bar,
        more_url=with_query(request, limit=min(FLAKY_MAX, limit + FLAKY_STEP)) if more else None,
    )
