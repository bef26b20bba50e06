"""Response shapes of the analytics API: flaky tests and per-run trends."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from playdeck.runs.schemas import ProjectRef, RunCounts, TestRef


class FlakeStats(BaseModel):
    """How a test behaved over a window of days.

    ``runs``: its results in the window. ``flaky``: results that passed only on a retry.
    ``flips``: results whose outcome switched between passing (``passed``) and failing
    (``failed``, ``timedout``) from the test's previous run. ``flake_rate``:
    ``(flaky + flips) / runs``, between 0 and 1. ``last_flaky_at``: the latest flaky result
    or flip.
    """

    runs: int
    flaky: int
    flips: int
    flake_rate: float
    last_flaky_at: datetime | None


class FlakyTest(FlakeStats):
    test: TestRef


class FlakyReport(BaseModel):
    project: ProjectRef
    days: int
    since: datetime
    items: list[FlakyTest]


class TrendPoint(BaseModel):
    run_id: int
    name: str | None
    started_at: datetime
    status: str
    branch: str | None
    commit: str | None
    counts: RunCounts
    pass_rate: float | None
    duration_ms: int
    p90_test_duration_ms: float | None


class Trends(BaseModel):
    project: ProjectRef
    items: list[TrendPoint]
