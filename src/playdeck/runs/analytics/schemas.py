"""Response shapes of the analytics API: flaky tests and per-run trends."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from playdeck.runs.schemas import ProjectRef, RunCounts, TestRef


class FlakeStats(BaseModel):
    """How a test behaved on one branch (or on all) over a window of days.

    Flaky means passed only on a retry, or failed on a commit on which the same test also
    passed (Trunk's and Datadog's definition). ``runs``: its results in the window. ``flaky``:
    results that passed only on a retry. ``flips``: failing results (``failed``, ``timedout``)
    on a commit on which the test also passed, in any run of the project. ``failed``: failing
    results. ``flake_rate``: ``(flaky + flips) / runs``, between 0 and 1. ``last_flaky_at``:
    the latest flaky result or flip.
    """

    runs: int
    flaky: int
    flips: int
    failed: int
    flake_rate: float
    last_flaky_at: datetime | None


class FlakyTest(FlakeStats):
    test: TestRef


class FlakyReport(BaseModel):
    """Flaky tests of one branch (``branch``; ``null``: every branch), most flaky first, and
    the tests broken there: failing with no flaky result and no flip."""

    project: ProjectRef
    days: int
    since: datetime
    branch: str | None
    default_branch: str | None
    items: list[FlakyTest]
    broken: list[FlakyTest]


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
