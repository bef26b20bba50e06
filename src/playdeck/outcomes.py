"""The words for how tests and runs ended, defined once.

Models, parsers, queries, the API and the pages all use these enums; their values are what the
database stores and the API sends (a ``StrEnum`` member *is* its value as a string), so nothing
on the wire or on disk depends on the Python names. ``tests/test_domain_words.py`` fails when a
copy elsewhere (a CHECK constraint, a count column, a filter's choices, a CSS class) drifts.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """A test's final outcome in a run, worst first.

    The order is the stored ``results.rank`` (a run's tests list failures first) and decides
    which outcome wins when one test ran several independent times (``merge_outcomes``).
    """

    FAILED = "failed"
    TIMEDOUT = "timedout"
    INTERRUPTED = "interrupted"
    FLAKY = "flaky"
    PASSED = "passed"
    SKIPPED = "skipped"

    @property
    def rank(self) -> int:
        """0 for ``failed`` ... 5 for ``skipped``: the column runs sort their tests by."""
        return _OUTCOME_RANK[self]


_OUTCOME_RANK = {outcome: rank for rank, outcome in enumerate(Outcome)}
FAILING_OUTCOMES = frozenset({Outcome.FAILED, Outcome.TIMEDOUT, Outcome.INTERRUPTED})


class AttemptStatus(StrEnum):
    """How one attempt (one retry) of a test ended: Playwright's words, lower-cased."""

    PASSED = "passed"
    FAILED = "failed"
    TIMEDOUT = "timedout"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"


FAILING_STATUSES = frozenset(
    {AttemptStatus.FAILED, AttemptStatus.TIMEDOUT, AttemptStatus.INTERRUPTED}
)


class RunStatus(StrEnum):
    """How a whole run ended; derived from its tests unless the run was cut short."""

    PASSED = "passed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    TIMEDOUT = "timedout"


# A run the report says was cut short keeps that status, whatever its tests did.
CUT_SHORT_STATUSES = frozenset({RunStatus.INTERRUPTED, RunStatus.TIMEDOUT})
