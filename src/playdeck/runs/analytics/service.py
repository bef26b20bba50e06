"""Analytics use cases: which tests are flaky, and how runs trend over time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from playdeck.kit.clock import utcnow
from playdeck.models import Project
from playdeck.runs.analytics import repository
from playdeck.runs.analytics.repository import FlakeRow
from playdeck.runs.analytics.schemas import (
    FlakeStats,
    FlakyReport,
    FlakyTest,
    TrendPoint,
    Trends,
)
from playdeck.runs.schemas import ProjectRef, RunCounts, TestRef, pass_rate


def window_start(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def _stats(row: FlakeRow) -> FlakeStats:
    # At most 1: a flip needs two consecutive passing/failing results, and flaky ones are neither.
    rate = (row.flaky + row.flips) / row.runs if row.runs else 0.0
    return FlakeStats(
        runs=row.runs,
        flaky=row.flaky,
        flips=row.flips,
        flake_rate=round(rate, 4),
        last_flaky_at=row.last_flaky_at,
    )


def flaky_tests(session: Session, *, project: Project, days: int, limit: int) -> FlakyReport:
    """Tests ranked by flake rate over the last ``days`` (see ``FlakeStats``)."""
    since = window_start(days)
    rows = repository.flake_stats(session, project_id=project.id, since=since, limit=limit)
    items = [FlakyTest(test=TestRef.of(row.test), **_stats(row).model_dump()) for row in rows]
    return FlakyReport(project=ProjectRef.of(project), days=days, since=since, items=items)


def flake_stats_of(
    session: Session, *, project_id: int, test_ids: Sequence[int], days: int
) -> dict[int, FlakeStats]:
    """Flake statistics of the given tests; tests that did not run in the window are absent."""
    if not test_ids:
        return {}
    rows = repository.flake_stats(
        session, project_id=project_id, since=window_start(days), test_ids=test_ids
    )
    return {row.test.id: _stats(row) for row in rows}


def trends(
    session: Session,
    *,
    project: Project,
    runs: int,
    branch: str | None,
    statuses: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Trends:
    """The latest ``runs`` runs (narrowed like the runs list), oldest first for charting, with
    their p90 test duration."""
    recent = repository.recent_runs(
        session,
        project_id=project.id,
        branch=branch,
        limit=runs,
        statuses=statuses,
        since=since,
        until=until,
    )
    recent.reverse()
    p90 = repository.duration_percentiles(session, [run.id for run in recent])
    items = [
        TrendPoint(
            run_id=run.id,
            name=run.name,
            started_at=run.started_at,
            status=run.status,
            branch=run.branch,
            commit=run.commit_sha,
            counts=RunCounts.of(run),
            pass_rate=pass_rate(
                total=run.total, passed=run.passed, flaky=run.flaky, skipped=run.skipped
            ),
            duration_ms=run.duration_ms,
            p90_test_duration_ms=round(p90[run.id], 1) if run.id in p90 else None,
        )
        for run in recent
    ]
    return Trends(project=ProjectRef.of(project), items=items)
