"""SQL for analytics: flakiness over a time window, per branch, and per-run duration percentiles.

Both are set-based: one statement over the results in the window, never a query per test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from playdeck.models import Result, Run, Test
from playdeck.outcomes import Outcome
from playdeck.runs.repository import RunFilter, rows

# The 90th percentile, as a fraction of integers so that the position is exact.
PERCENTILE_NUM, PERCENTILE_DEN = 9, 10
# A failing result: the test ran and did not pass (pytest's error included: a fixture of the
# test failed). An interrupted test was stopped from outside (the run was cut short): it says
# nothing about the test. pytest's xfailed and xpassed are no side of a flip either: the test is
# marked as known to fail.
_FAILING = (Outcome.FAILED, Outcome.ERROR, Outcome.TIMEDOUT)
# A passing result, for the "passed and failed on the same commit" rule (flaky passed on retry).
_PASSING_RANKS = tuple(o.rank for o in (Outcome.PASSED, Outcome.FLAKY))
_FAILING_RANKS = tuple(o.rank for o in _FAILING)
# Outcomes behind every flakiness event: flaky itself, or failing (a flip's failing side).
_SIGNAL_RANKS = tuple(o.rank for o in (Outcome.FLAKY, *_FAILING))


@dataclass(frozen=True, slots=True)
class FlakeCounts:
    runs: int
    flaky: int
    flips: int
    failed: int
    last_flaky_at: datetime | None  # latest flaky result or flip

    @classmethod
    def of(cls, runs: int, flaky: int, flips: int, failed: int, at: datetime | None) -> FlakeCounts:
        return cls(int(runs), int(flaky), int(flips), int(failed), at)


@dataclass(frozen=True, slots=True)
class FlakeRow:
    test: Test
    counts: FlakeCounts


def _passed_on_same_commit() -> Any:
    """True for a (failing) result whose test passed in some run of the same commit.

    Driven by the commit's runs (``ix_runs_project_commit``: one run, or a few re-runs), then
    one seek per run for the test's result in it: ``ix_results_test_started`` holds
    (test_id, run_started_at, id, run_id, rank), and a result's ``run_started_at`` is its run's
    ``started_at``. Searching the test's results for the commit instead reads every result the
    test ever had, for each failure.
    """
    other_run, other = aliased(Run), aliased(Result)
    passed_in_run = (
        select(other.id)
        .where(
            other.test_id == Result.test_id,
            other.run_started_at == other_run.started_at,
            other.run_id == other_run.id,
            other.rank.in_(_PASSING_RANKS),
        )
        .correlate(Result, other_run)
        .exists()
    )
    return (
        select(other_run.id)
        .where(
            other_run.project_id == bindparam("project_id"),
            other_run.commit_sha == Run.commit_sha,
            passed_in_run,
        )
        .correlate(Result, Run)
        .exists()
    )


def flake_stats(
    session: Session, *, project_id: int, since: datetime, branch: str | None
) -> list[FlakeRow]:
    """Every test with a flaky or failing result since ``since`` on ``branch`` (every branch
    when ``None``), with its counts (see ``flake_counts``), in no particular order."""
    query = _flake_query(with_test=True, on_branch=branch is not None, of_tests=False)
    params = {"project_id": project_id, "since": since, "branch": branch}
    return [
        FlakeRow(test, FlakeCounts.of(*counts))
        for test, *counts in session.execute(query, params).all()
        if counts[0]
    ]


def flake_counts(
    session: Session,
    *,
    project_id: int,
    since: datetime,
    branch: str | None,
    test_ids: Sequence[int],
) -> dict[int, FlakeCounts]:
    """Per-test results, flaky results, flips and failures since ``since`` on ``branch`` (every
    branch when ``None``) of the given tests, by test id; tests that did not run there in the
    window are absent. One statement.

    Flaky means passed only on a retry, or failed on a commit on which the same test also
    passed (a flip): the definition of Trunk and Datadog. A test that only ever fails on a
    branch is broken there, not flaky. Runs without a commit are never compared.
    """
    query = _flake_query(with_test=False, on_branch=branch is not None, of_tests=True)
    params = {"project_id": project_id, "since": since, "branch": branch, "test_ids": test_ids}
    return {
        test_id: FlakeCounts.of(*counts)
        for test_id, *counts in rows(session, query, params)
        if counts[0]
    }


@cache
def _flake_query(*, with_test: bool, on_branch: bool, of_tests: bool) -> Select[Any]:
    """The test (``with_test``) or its id, its results, flaky results, flips, failures and
    latest flaky event: of the tests ``:test_ids`` (``of_tests``), else of the tests with a
    flaky or failing result; in project ``:project_id`` since ``:since``, on ``:branch``
    (``on_branch``) or every branch.

    Built once per shape with bound parameters: building this statement costs more Python
    time than running it.

    The cost follows the failures, not the window: flaky and failing results are found through
    the window's runs and ``ix_results_run_rank``, which holds each result's test: read by
    rank (which encodes the outcome) and with its run's ``started_at`` (which is the result's
    ``run_started_at``), they never reach the results table. Each failing result looks for
    a pass of its test on its commit through the commit's runs. Results per
    test are a correlated count over ``ix_results_test_branch_started`` (the result's run's
    branch is denormalised into it), index-only, without a look-up of each result's run;
    over every branch, over ``ix_results_test_started``.
    """
    failing = Result.rank.in_(_FAILING_RANKS)
    flip = and_(failing, Run.commit_sha.is_not(None), _passed_on_same_commit())
    project_id: BindParameter[int] = bindparam("project_id")
    # The window's start is written into the statement, so its text changes with every call:
    # psycopg prepares a statement it has run five times, and PostgreSQL's generic plan for
    # it, not knowing how much of the history the window holds, took 10-30x longer.
    since: BindParameter[datetime] = bindparam("since", literal_execute=True)
    signal = (
        select(
            Result.test_id.label("test_id"),
            Result.rank.label("rank"),
            Run.started_at.label("at"),
            case((failing, 1), else_=0).label("failed"),
            case((flip, 1), else_=0).label("flip"),
        )
        .join(Run, Run.id == Result.run_id)
        .where(
            Run.project_id == project_id,
            Run.started_at >= since,
            # The range bounds the index scan of each run to its worst outcomes (PostgreSQL
            # read every result of the run to test the list alone); the list picks from them.
            Result.rank <= max(_SIGNAL_RANKS),
            Result.rank.in_(_SIGNAL_RANKS),
        )
    )
    if on_branch:
        signal = signal.where(Run.branch == bindparam("branch"))
    if of_tests:
        signal = signal.where(Result.test_id.in_(bindparam("test_ids", expanding=True)))
    signals = signal.cte("signal")

    is_flaky = signals.c.rank == Outcome.FLAKY.rank
    events = (
        select(
            signals.c.test_id,
            func.sum(case((is_flaky, 1), else_=0)).label("flaky"),
            func.sum(signals.c.flip).label("flips"),
            func.sum(signals.c.failed).label("failed"),
            func.max(case((or_(is_flaky, signals.c.flip == 1), signals.c.at))).label("last_at"),
        )
        .group_by(signals.c.test_id)
        .cte("events")
    )
    runs = (
        select(func.count())
        .select_from(Result)
        .where(Result.test_id == Test.id, Result.run_started_at >= since)
        .correlate(Test)
    )
    if on_branch:
        runs = runs.where(Result.run_branch == bindparam("branch"))
    query = select(
        Test if with_test else Test.id,
        runs.scalar_subquery(),
        func.coalesce(events.c.flaky, 0),
        func.coalesce(events.c.flips, 0),
        func.coalesce(events.c.failed, 0),
        events.c.last_at,
    ).where(Test.project_id == project_id)
    if of_tests:
        query = query.outerjoin(events, events.c.test_id == Test.id).where(
            Test.id.in_(bindparam("test_ids", expanding=True))
        )
    else:
        query = query.join(events, events.c.test_id == Test.id)
    return query


def branch_counts(session: Session, *, project_id: int, limit: int) -> list[tuple[str, int]]:
    """Branches of the project's latest ``limit`` runs, most runs first (ties: latest run)."""
    latest = (
        select(Run.branch, Run.started_at)
        .where(Run.project_id == project_id)
        .order_by(Run.started_at.desc(), Run.id.desc())
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(latest.c.branch, func.count())
        .where(latest.c.branch.is_not(None))
        .group_by(latest.c.branch)
        .order_by(func.count().desc(), func.max(latest.c.started_at).desc())
    ).all()
    return [(str(name), int(count)) for name, count in rows]


def recent_runs(
    session: Session,
    *,
    project_id: int,
    where: RunFilter,
    limit: int,
) -> list[Run]:
    """The project's latest ``limit`` runs of those ``where`` selects, newest first (index
    ``ix_runs_project_started``)."""
    query = select(Run).where(Run.project_id == project_id, *where.conditions())
    query = query.order_by(Run.started_at.desc(), Run.id.desc()).limit(limit)
    return list(session.scalars(query))


def duration_percentiles(session: Session, run_ids: Sequence[int]) -> dict[int, float]:
    """The 90th percentile of test durations per run (continuous, like ``percentile_cont``).

    Skipped tests did not run and are left out. PostgreSQL computes ``percentile_cont``.
    SQLite has no percentile function: it returns each run's durations as one
    ``group_concat`` string (one row per run, read in ``ix_results_run_rank`` order) and the
    percentile is taken here, a pass bounded by the runs asked for (at most 500). On 50 runs of
    2,000 tests this costs about a third of the pure-SQL alternative, a ``row_number()``
    window over each run's sorted durations (~45 ms against ~190 ms of CPU), because
    SQLite's window machinery, not reading the rows, is the expensive part.
    """
    if not run_ids:
        return {}
    executed = [Result.run_id.in_(run_ids), Result.outcome != Outcome.SKIPPED.value]
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(
            select(
                Result.run_id,
                func.percentile_cont(PERCENTILE_NUM / PERCENTILE_DEN).within_group(
                    Result.duration_ms
                ),
            )
            .where(*executed)
            .group_by(Result.run_id)
        ).all()
        return {run_id: float(value) for run_id, value in rows if value is not None}

    joined = session.execute(
        select(Result.run_id, func.group_concat(Result.duration_ms))
        .where(*executed)
        .group_by(Result.run_id)
    ).all()
    return {
        run_id: percentile(sorted(map(int, durations.split(","))))
        for run_id, durations in joined
        if durations
    }


def percentile(ordered: Sequence[int]) -> float:
    """The 90th percentile of sorted values, interpolated like ``percentile_cont``."""
    scaled = (len(ordered) - 1) * PERCENTILE_NUM
    low, rest = divmod(scaled, PERCENTILE_DEN)
    if rest == 0:
        return float(ordered[low])
    return ordered[low] + (ordered[low + 1] - ordered[low]) * rest / PERCENTILE_DEN
