"""SQL for analytics: flakiness over a time window and per-run duration percentiles.

Both are set-based: one statement over the results in the window, never a query per test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, case, cast, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from playdeck.models import Result, Run, Test
from playdeck.outcomes import Outcome
from playdeck.runs.repository import run_conditions

# The 90th percentile, as a fraction of integers so that the position is exact.
PERCENTILE_NUM, PERCENTILE_DEN = 9, 10
# The failing side of a flip. An interrupted test was stopped from outside (the run was cut
# short): it says nothing about the test, so passing next to it is no flip.
_FAILING = (Outcome.FAILED, Outcome.TIMEDOUT)
# Outcomes behind every flakiness event: flaky itself, or failing (one side of every flip).
_SIGNAL_RANKS = tuple(o.rank for o in (Outcome.FLAKY, *_FAILING))


@dataclass(frozen=True, slots=True)
class FlakeRow:
    test: Test
    runs: int
    flaky: int
    flips: int
    last_flaky_at: datetime | None  # latest flaky result or flip


def _neighbour(since: datetime, *, before: bool) -> Any:
    """The id of the same test's previous (or next) result in the window: one index seek."""
    other = aliased(Result)
    here = tuple_(Result.run_started_at, Result.id)
    there = tuple_(other.run_started_at, other.id)
    order = (
        (other.run_started_at.desc(), other.id.desc())
        if before
        else (other.run_started_at, other.id)
    )
    return (
        select(other.id)
        .where(
            other.test_id == Result.test_id,
            other.run_started_at >= since,
            there < here if before else there > here,
        )
        .order_by(*order)
        .limit(1)
        .correlate(Result)
        .scalar_subquery()
    )


def flake_stats(
    session: Session,
    *,
    project_id: int,
    since: datetime,
    test_ids: Sequence[int] | None = None,
    limit: int | None = None,
) -> list[FlakeRow]:
    """Per-test runs, flaky results and pass/fail flips since ``since``, in one statement.

    With ``test_ids``: those tests (the ones that ran in the window), in no particular order.
    Otherwise the tests with a flaky result or a flip, most flaky first, at most ``limit``.

    The cost follows the failures, not the window. Every flaky result and every flip involves
    a flaky or failing result, and those are few: they are found through the window's runs and
    ``ix_results_run_rank`` (rank encodes the outcome). A flip is a failing result next to a
    passing one, so for each failing result the previous and next result of its test are two
    index seeks (``ix_results_test_started``). Runs per test are an index-only count over the
    same index. The window's passing majority is never read row by row; the cost does grow
    with the failures, so a window in which every test failed at least once reads every
    test's neighbours (still index seeks, two per failing result).
    """
    flaky_or_failing = Result.rank.in_(_SIGNAL_RANKS)
    signal = select(
        Result.test_id.label("test_id"),
        Result.outcome.label("outcome"),
        Result.run_started_at.label("at"),
        case((Result.outcome.in_(_FAILING), _neighbour(since, before=True))).label("prev_id"),
        case((Result.outcome.in_(_FAILING), _neighbour(since, before=False))).label("next_id"),
    )
    if test_ids is not None:
        signal = signal.where(
            Result.test_id.in_(test_ids), Result.run_started_at >= since, flaky_or_failing
        )
    else:
        signal = signal.join(Run, Run.id == Result.run_id).where(
            Run.project_id == project_id, Run.started_at >= since, flaky_or_failing
        )
    signals = signal.cte("signal")

    prev, nxt = aliased(Result), aliased(Result)
    is_flaky = signals.c.outcome == Outcome.FLAKY.value
    flip_before = prev.outcome == Outcome.PASSED.value
    flip_after = nxt.outcome == Outcome.PASSED.value
    events = (
        select(
            signals.c.test_id,
            func.sum(case((is_flaky, 1), else_=0)).label("flaky"),
            (
                func.sum(case((flip_before, 1), else_=0)) + func.sum(case((flip_after, 1), else_=0))
            ).label("flips"),
            # A failing result's flip back to passing happens at the next run.
            func.max(
                case(
                    (flip_after, nxt.run_started_at),
                    (or_(is_flaky, flip_before), signals.c.at),
                )
            ).label("last_at"),
        )
        .outerjoin(prev, prev.id == signals.c.prev_id)
        .outerjoin(nxt, nxt.id == signals.c.next_id)
        .group_by(signals.c.test_id)
        .cte("events")
    )
    # Runs per test: an index-only count per test, correlated so that no planner is tempted to
    # scan the window instead (PostgreSQL did, for a grouped IN (...) form).
    runs = (
        select(func.count())
        .where(Result.test_id == Test.id, Result.run_started_at >= since)
        .correlate(Test)
        .scalar_subquery()
    )
    flaky = func.coalesce(events.c.flaky, 0)
    flips = func.coalesce(events.c.flips, 0)
    scored = select(
        Test.id.label("test_id"),
        runs.label("runs"),
        flaky.label("flaky"),
        flips.label("flips"),
        events.c.last_at,
    )
    if test_ids is not None:
        scored = scored.outerjoin(events, events.c.test_id == Test.id).where(
            Test.id.in_(test_ids), Test.project_id == project_id
        )
    else:
        scored = scored.join(events, events.c.test_id == Test.id).where(
            Test.project_id == project_id, flaky + flips > 0
        )
    ranked = scored.subquery("scored")
    query = select(Test, ranked.c.runs, ranked.c.flaky, ranked.c.flips, ranked.c.last_at).join(
        ranked, ranked.c.test_id == Test.id
    )
    if test_ids is None:
        events_n = ranked.c.flaky + ranked.c.flips
        query = query.order_by(
            (cast(events_n, Float) / ranked.c.runs).desc(),
            events_n.desc(),
            ranked.c.last_at.desc(),
            Test.id,
        )
        if limit is not None:
            query = query.limit(limit)
    return [
        FlakeRow(
            test=test, runs=int(runs_n), flaky=int(flaky_n), flips=int(flips_n), last_flaky_at=at
        )
        for test, runs_n, flaky_n, flips_n, at in session.execute(query).all()
        if runs_n
    ]


def recent_runs(
    session: Session,
    *,
    project_id: int,
    branch: str | None,
    limit: int,
    statuses: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Run]:
    """The project's latest ``limit`` runs, newest first (index ``ix_runs_project_started``),
    of a branch, of some statuses, started in ``[since, until)`` when given."""
    query = select(Run).where(
        Run.project_id == project_id,
        *run_conditions(branch=branch, statuses=statuses, since=since, until=until),
    )
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
