"""``/runs/{id}``: a run's header and its tests, failures first, with everything to debug them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from playdeck.deps import BlobStoreDep
from playdeck.kit.ansi import ansi_to_html
from playdeck.outcomes import FAILING_OUTCOMES, Outcome, RunStatus
from playdeck.runs import service as runs_service
from playdeck.runs.files import service as files_service
from playdeck.runs.repository import ResultFilter
from playdeck.runs.schemas import RunDetail, RunTest
from playdeck.storage.base import BlobStore
from playdeck.web import charts
from playdeck.web.context import pager
from playdeck.web.params import (
    CursorQuery,
    TextFilters,
    TextQuery,
    may_delete_runs,
    page_id,
)
from playdeck.web.rendering import render, with_query
from playdeck.web.run_results import failing_attempt, group_results, step_tree
from playdeck.web.views import RunReader, ViewDep

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
# Text attachments up to this size are shown on the page; larger ones are downloads only.
MAX_INLINE_TEXT = 32 * 1024
MAX_METADATA_ROWS = 60
# How often the page of a running run asks for itself again (web/static/playdeck.js).
LIVE_POLL_SECONDS = 3
MAX_METADATA_VALUE = 400


@dataclass(frozen=True, slots=True)
class ResultFilters(TextFilters):
    """What the run page's table shows: the filters, how results are grouped (``group=file``)
    and the one result a link names."""

    outcome: TextQuery = None
    q: TextQuery = None
    browser: TextQuery = None
    tag: TextQuery = None
    file: Annotated[str | None, Query(max_length=1000)] = None
    group: TextQuery = None
    result: TextQuery = None

    @property
    def selects_results(self) -> bool:
        """Whether the table shows only some results (grouping shows them all)."""
        return bool(self.outcome or self.q or self.browser or self.tag or self.file or self.result)

    def where(self) -> ResultFilter:
        """The results they select; ``result`` names one by its id (404 when it cannot be
        one), 422 on an unknown outcome."""
        return ResultFilter.parse(
            outcome=self.outcome,
            q=self.q,
            browser=self.browser,
            tag=self.tag,
            file=self.file,
            result_id=page_id(self.result, what="Result") if self.result else None,
        )


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


def _inline_texts(
    session: Session, store: BlobStore, run_id: int, tests: list[RunTest]
) -> dict[int, str]:
    wanted = [
        file.id
        for t in tests
        for a in t.attempts
        for file in a.attachments
        if files_service.is_text(file.content_type) and file.size <= MAX_INLINE_TEXT
    ]
    return files_service.read_texts(
        session, store, run_id=run_id, attachment_ids=wanted, limit=MAX_INLINE_TEXT
    )


@router.get("/runs/{run_id}", response_class=HTMLResponse)
def show_run(
    view: ViewDep,
    store: BlobStoreDep,
    access: RunReader,
    filters: Annotated[ResultFilters, Depends()],
    cursor: CursorQuery = None,
) -> HTMLResponse:
    request, session = view.request, view.session
    run, project, principal = access.run, access.project, access.principal
    reports = runs_service.list_reports(session, run=run)
    parts = runs_service.list_parts(session, run=run)
    detail = RunDetail.of_detail(run, project, reports, "", parts)
    by_file = filters.group == "file"
    where = filters.where()
    quarantine = runs_service.run_quarantine(session, run=run)
    tests, next_cursor = runs_service.list_run_tests(
        session,
        run=run,
        where=where,
        cursor=cursor,
        limit=RESULTS_PER_PAGE,
        quarantine=quarantine,
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
            (
                with_query(request, outcome=value, cursor=None),
                css,
                label,
                count,
                value == filters.outcome,
            )
            for value, css, label, count in chips
        ],
        tests=tests,
        quarantined_failures=quarantine.failures,
        live=live_state(detail),
        sections=group_results(tests, by_file=by_file),
        failing_attempt=failing_attempt,
        step_tree=step_tree,
        ansi=ansi_to_html,
        texts=_inline_texts(session, store, run.id, tests),
        failing=FAILING_OUTCOMES,
        inline_images=INLINE_IMAGES,
        inline_videos=INLINE_VIDEOS,
        outcome=filters.outcome or "",
        outcome_choices=OUTCOME_CHOICES,
        q=filters.q or "",
        browser=filters.browser or "",
        tag=filters.tag or "",
        file=filters.file or "",
        by_file=by_file,
        single=where.result_id is not None,
        facets=runs_service.run_facets(session, run=run),
        filtered=filters.selects_results,
        **pager(request, cursor=cursor, next_cursor=next_cursor),
    )
