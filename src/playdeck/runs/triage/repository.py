"""SQL for triage: a window's failing results, a run's results, a run's base run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, tuple_
from sqlalchemy.orm import Session

from playdeck.models import Attempt, Result, Run, Test
from playdeck.outcomes import COMPLETE_STATUSES, Outcome

# A failure for triage: the test ran and did not pass (pytest's error included: a fixture of
# the test failed; interrupted tests were stopped from outside and say nothing), or passed only
# on retry (its failed attempt's error is kept).
FAILING = (Outcome.FAILED.value, Outcome.ERROR.value, Outcome.TIMEDOUT.value)
PASSING = (Outcome.PASSED.value, Outcome.FLAKY.value)
_FAILURE_RANKS = tuple(Outcome(o).rank for o in (*FAILING, Outcome.FLAKY.value))


@dataclass(frozen=True, slots=True)
class Failure:
    test_id: int
    run_id: int
    at: datetime
    outcome: str
    message: str | None
    stack: str | None


@dataclass(frozen=True, slots=True)
class RunOutcome:
    outcome: str
    duration_ms: int
    message: str | None
    stack: str | None


def _or_attempts(own: Any, attempts: Any) -> Any:
    """The result's error, else its first failed attempt's (a flaky result keeps none of its
    own: it passed in the end)."""
    first = (
        select(attempts)
        .where(Attempt.result_id == Result.id, attempts.is_not(None))
        .order_by(Attempt.retry)
        .limit(1)
        .correlate(Result)
        .scalar_subquery()
    )
    return case((own.is_(None), first), else_=own)


def window_failures(
    session: Session, *, project_id: int, since: datetime, branch: str | None, limit: int
) -> list[Failure]:
    """The project's failing and flaky results since ``since`` on ``branch`` (every branch:
    ``None``), newest first, at most ``limit`` (index ``ix_results_project_started``)."""
    query = (
        select(
            Result.test_id,
            Result.run_id,
            Result.run_started_at,
            Result.outcome,
            _or_attempts(Result.error_message, Attempt.error_message),
            _or_attempts(Result.error_stack, Attempt.error_stack),
        )
        .where(
            Result.project_id == project_id,
            Result.run_started_at >= since,
            Result.rank.in_(_FAILURE_RANKS),
        )
        .order_by(Result.run_started_at.desc(), Result.id.desc())
        .limit(limit)
    )
    if branch is not None:
        query = query.join(Run, Run.id == Result.run_id).where(Run.branch == branch)
    return [Failure(*row) for row in session.execute(query).all()]


def run_outcomes(
    session: Session,
    run_id: int,
    *,
    test_ids: Sequence[int] | None = None,
    failing_only: bool = False,
) -> dict[int, RunOutcome]:
    """Outcome, duration and error of each test of a run (of ``test_ids`` only, if given)."""
    query = select(
        Result.test_id, Result.outcome, Result.duration_ms, Result.error_message, Result.error_stack
    ).where(Result.run_id == run_id)
    if test_ids is not None:
        query = query.where(Result.test_id.in_(test_ids))
    if failing_only:
        query = query.where(Result.rank.in_(tuple(Outcome(o).rank for o in FAILING)))
    return {row[0]: RunOutcome(*row[1:]) for row in session.execute(query).all()}


def base_run(session: Session, run: Run, *, branch: str | None) -> Run | None:
    """The latest complete run (``COMPLETE_STATUSES``) of ``run``'s project on ``branch`` (any
    branch: ``None``) that started before it (index ``ix_runs_project_branch_started``)."""
    query = select(Run).where(
        Run.project_id == run.project_id,
        tuple_(Run.started_at, Run.id) < tuple_(run.started_at, run.id),
        Run.status.in_(COMPLETE_STATUSES),
    )
    if branch is not None:
        query = query.where(Run.branch == branch)
    return session.scalars(query.order_by(Run.started_at.desc(), Run.id.desc()).limit(1)).first()


def tests_by_id(session: Session, ids: Sequence[int]) -> dict[int, Test]:
    if not ids:
        return {}
    return {test.id: test for test in session.scalars(select(Test).where(Test.id.in_(ids)))}
