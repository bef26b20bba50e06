"""``/runs/{id}``: a run's header and its tests, failures first, with everything to debug them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep
from playdeck.outcomes import FAILING_OUTCOMES, Outcome, RunStatus
from playdeck.runs import service as runs_service
from playdeck.runs.access import RunAccess, run_access
from playdeck.runs.schemas import RunDetail
from playdeck.web import charts
from playdeck.web.params import CursorQuery, TextQuery, may_delete_runs, page_run_id, text
from playdeck.web.rendering import render, with_query

router = APIRouter()

RESULTS_PER_PAGE = 40
# Every failing outcome, as the service's comma list: "failed,timedout,interrupted".
FAILURES = ",".join(o for o in Outcome if o in FAILING_OUTCOMES)
# The outcome filter's choices: (query value, label). Values are the service's comma lists.
OUTCOME_CHOICES: tuple[tuple[str, str], ...] = (
    ("", "All outcomes"),
    (FAILURES, "Failures"),
    (Outcome.FLAKY, "Flaky"),
    (Outcome.PASSED, "Passed"),
    (Outcome.SKIPPED, "Skipped"),
    (Outcome.FAILED, "Failed only"),
    (Outcome.TIMEDOUT, "Timed out"),
    (Outcome.INTERRUPTED, "Interrupted"),
    (Outcome.ERROR, "Errors (pytest)"),
    (Outcome.XFAILED, "Expected failures (xfailed)"),
    (Outcome.XPASSED, "Unexpected passes (xpassed)"),
)
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"})
INLINE_VIDEOS = frozenset({"video/webm", "video/mp4"})
MAX_METADATA_ROWS = 60
# How often the page of a running run asks for itself again (web/static/playdeck.js).
LIVE_POLL_SECONDS = 3
MAX_METADATA_VALUE = 400


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if len(rows) >= MAX_METADATA_ROWS:
        return
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), item, rows)
        return
    if value is None or value in ("", [], {}):
        return
    shown = value if isinstance(value, str) else orjson.dumps(value).decode()
    if len(shown) > MAX_METADATA_VALUE:
        shown = shown[: MAX_METADATA_VALUE - 1] + "…"
    rows.append((prefix, shown))


def metadata_rows(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    """A run's free-form metadata as ``("scm.branch", "main")`` rows, bounded for the page."""
    rows: list[tuple[str, str]] = []
    _flatten("", metadata, rows)
    return rows


@dataclass(frozen=True, slots=True)
class LiveState:
    """What the page says about a run in parts, and whether its script keeps it current."""

    running: bool
    received: int  # tests the parts sent so far
    expected: int | None  # tests the parts said they would send, when every part said
    signature: str  # changes whenever the page would: the script swaps its regions then
    poll_seconds: int = LIVE_POLL_SECONDS


def live_state(run: RunDetail) -> LiveState:
    received = sum(p.tests for p in run.parts)
    promised = [p.expected_tests for p in run.parts]
    expected = None
    if promised and all(n is not None for n in promised):
        expected = sum(n for n in promised if n is not None)
    signature = ":".join(
        str(v) for v in (run.status, run.counts.total, received, len(run.parts), run.duration_ms)
    )
    return LiveState(
        running=run.status == RunStatus.RUNNING,
        received=received,
        expected=expected,
        signature=signature,
    )


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def show_run(
    request: Request,
    session: SessionDep,
    access: Annotated[RunAccess, run_access(Permission.PROJECT_READ, run_id=page_run_id)],
    outcome: TextQuery = None,
    q: TextQuery = None,
    cursor: CursorQuery = None,
) -> HTMLResponse:
    run, project, principal = access.run, access.project, access.principal
    reports = runs_service.list_reports(session, run=run)
    parts = runs_service.list_parts(session, run=run)
    detail = RunDetail.of_detail(run, project, reports, "", parts)
    outcome, q = text(outcome), text(q)
    tests, next_cursor = runs_service.list_run_tests(
        session, run=run, outcome=outcome, q=q, cursor=cursor, limit=RESULTS_PER_PAGE
    )
    c = detail.counts
    chips = [
        (FAILURES, Outcome.FAILED, "Failed", c.failing),
        (Outcome.FLAKY, Outcome.FLAKY, "Flaky", c.flaky),
        (Outcome.PASSED, Outcome.PASSED, "Passed", c.passed),
        (Outcome.SKIPPED, Outcome.SKIPPED, "Skipped", c.skipped),
    ]
    # pytest's own words, for the runs that have them.
    chips.extend(
        (outcome, outcome, label, count)
        for outcome, label, count in (
            (Outcome.ERROR, "Errors", c.error),
            (Outcome.XFAILED, "Xfailed", c.xfailed),
            (Outcome.XPASSED, "Xpassed", c.xpassed),
        )
        if count
    )
    return render(
        request,
        "runs/detail.html",
        principal=principal,
        project=project,
        run=detail,
        may_manage_run=may_delete_runs(session, principal, project),
        metadata=metadata_rows(detail.metadata),
        counts_bar=charts.counts_bar(
            passed=c.passed,
            failed=c.failing,
            flaky=c.flaky,
            skipped=c.skipped,
            width=240,
            height=10,
        ),
        chips=[
            (with_query(request, outcome=value, cursor=None), css, label, count, value == outcome)
            for value, css, label, count in chips
        ],
        tests=tests,
        live=live_state(detail),
        failing=FAILING_OUTCOMES,
        inline_images=INLINE_IMAGES,
        inline_videos=INLINE_VIDEOS,
        outcome=outcome or "",
        outcome_choices=OUTCOME_CHOICES,
        q=q or "",
        filtered=bool(outcome or q),
        next_url=with_query(request, cursor=next_cursor) if next_cursor else None,
        first_url=with_query(request, cursor=None) if cursor else None,
    )
