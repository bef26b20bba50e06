"""Analytics use cases: which tests are flaky, and how runs trend over time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from playdeck.kit.clock import utcnow
from playdeck.models import Project
from playdeck.runs.analytics import repository
from playdeck.runs.analytics.repository import FlakeCounts, FlakeRow
from playdeck.runs.analytics.schemas import (
    FlakeStats,
    FlakyReport,
    FlakyTest,
    TrendPoint,
    Trends,
)
from playdeck.runs.pages import Fields
from playdeck.runs.repository import RunFilter
from playdeck.runs.schemas import ProjectRef, RunCounts, TestRef, run_pass_rate


def window_start(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


# How many of the latest runs tell the default branch when the project names none.
BRANCH_SAMPLE = 200


def flake_fields(row: FlakeCounts) -> Fields:
    """``FlakeStats`` fields of a test's counts."""
    rate = (row.flaky + row.flips) / row.runs if row.runs else 0.0
    return {
        "runs": row.runs,
        "flaky": row.flaky,
        "flips": row.flips,
        "failed": row.failed,
        "flake_rate": round(min(rate, 1.0), 4),
        "last_flaky_at": row.last_flaky_at,
    }


def default_branch(session: Session, project: Project) -> str | None:
    """The project's default branch: its setting, else the branch most of its latest runs
    were on; ``None`` when no run names a branch (then every run counts)."""
    if project.default_branch:
        return project.default_branch
    counts = repository.branch_counts(session, project_id=project.id, limit=BRANCH_SAMPLE)
    return counts[0][0] if counts else None


def branches(session: Session, project: Project) -> list[str]:
    """Branches of the project's latest runs, busiest first: the choices of a branch filter."""
    return [
        name
        for name, _ in repository.branch_counts(session, project_id=project.id, limit=BRANCH_SAMPLE)
    ]


def resolve_branch(
    session: Session, project: Project, *, branch: str | None, all_branches: bool
) -> str | None:
    """The branch a flakiness view is about: the one asked for, else the default branch."""
    if all_branches:
        return None
    return branch or default_branch(session, project)


@dataclass(frozen=True, slots=True)
class BranchWindow:
    """What a per-branch view covers: ``days`` back, at most ``limit`` items, on ``branch``
    (``None``: every branch)."""

    days: int
    limit: int
    branch: str | None


def flaky_tests(session: Session, *, project: Project, window: BranchWindow) -> FlakyReport:
    """Tests ranked by flake rate on the window's branch over its days, and the tests broken on
    it (see ``FlakeStats``)."""
    days, limit, branch = window.days, window.limit, window.branch
    since = window_start(days)
    rows = repository.flake_stats(session, project_id=project.id, since=since, branch=branch)
    flaky = [row for row in rows if row.counts.flaky + row.counts.flips]
    flaky.sort(
        key=lambda r: (
            -(r.counts.flaky + r.counts.flips) / r.counts.runs,
            -(r.counts.flaky + r.counts.flips),
            -(r.counts.last_flaky_at.timestamp() if r.counts.last_flaky_at else 0.0),
            r.test.id,
        )
    )
    broken = [row for row in rows if row.counts.failed and not row.counts.flaky + row.counts.flips]
    broken.sort(key=lambda r: (-r.counts.failed / r.counts.runs, -r.counts.failed, r.test.id))
    return FlakyReport(
        project=ProjectRef.of(project),
        days=days,
        since=since,
        branch=branch,
        default_branch=default_branch(session, project),
        items=[_flaky_test(row) for row in flaky[:limit]],
        broken=[_flaky_test(row) for row in broken[:limit]],
    )


def _flaky_test(row: FlakeRow) -> FlakyTest:
    return FlakyTest(test=TestRef.of(row.test), **flake_fields(row.counts))


def flake_fields_of(
    session: Session, *, project: Project, test_ids: Sequence[int], days: int
) -> dict[int, Fields]:
    """Flake statistics (``FlakeStats`` fields) of the given tests on the project's default
    branch; tests that did not run there in the window are absent."""
    if not test_ids:
        return {}
    counts = repository.flake_counts(
        session,
        project_id=project.id,
        since=window_start(days),
        branch=default_branch(session, project),
        test_ids=test_ids,
    )
    return {test_id: flake_fields(row) for test_id, row in counts.items()}


def flake_stats_of(
    session: Session, *, project: Project, test_ids: Sequence[int], days: int
) -> dict[int, FlakeStats]:
    """``flake_fields_of`` as ``FlakeStats``."""
    fields = flake_fields_of(session, project=project, test_ids=test_ids, days=days)
    return {test_id: FlakeStats(**stats) for test_id, stats in fields.items()}


def trends(
    session: Session,
    *,
    project: Project,
    runs: int,
    where: RunFilter,
) -> Trends:
    """The latest ``runs`` runs the filter selects (as it does the runs list), oldest first for
    charting, with their p90 test duration."""
    recent = repository.recent_runs(session, project_id=project.id, where=where, limit=runs)
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
            pass_rate=run_pass_rate(run),
            duration_ms=run.duration_ms,
            p90_test_duration_ms=round(p90[run.id], 1) if run.id in p90 else None,
        )
        for run in recent
    ]
    return Trends(project=ProjectRef.of(project), items=items)
