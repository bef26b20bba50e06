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
    ERROR = "error"  # pytest: a fixture (setup or teardown) failed, not the test itself
    TIMEDOUT = "timedout"
    INTERRUPTED = "interrupted"
    FLAKY = "flaky"
    XPASSED = "xpassed"  # pytest: marked xfail (not strict), and passed
    PASSED = "passed"
    XFAILED = "xfailed"  # pytest: marked xfail, and failed as expected (or was not run)
    SKIPPED = "skipped"

    @property
    def rank(self) -> int:
        """0 for ``failed`` ... 8 for ``skipped``: the column runs sort their tests by."""
        return _OUTCOME_RANK[self]


_OUTCOME_RANK = {outcome: rank for rank, outcome in enumerate(Outcome)}
FAILING_OUTCOMES = frozenset({Outcome.FAILED, Outcome.ERROR, Outcome.TIMEDOUT, Outcome.INTERRUPTED})
# Only pytest's tests end in these; Playwright has no word for them (see docs/decisions.md).
PYTEST_OUTCOMES = frozenset({Outcome.ERROR, Outcome.XPASSED, Outcome.XFAILED})


class AttemptStatus(StrEnum):
    """How one attempt (one retry) of a test ended: Playwright's words, lower-cased, and the
    three of pytest's that Playwright has none for (sent by the pytest plugin and read from
    pytest's JUnit XML)."""

    PASSED = "passed"
    FAILED = "failed"
    TIMEDOUT = "timedout"
    SKIPPED = "skipped"
    INTERRUPTED = "interrupted"
    ERROR = "error"
    XFAILED = "xfailed"
    XPASSED = "xpassed"


FAILING_STATUSES = frozenset(
    {AttemptStatus.FAILED, AttemptStatus.ERROR, AttemptStatus.TIMEDOUT, AttemptStatus.INTERRUPTED}
)
# An attempt in one of pytest's own words ends the test with the outcome of the same name.
PYTEST_STATUS_OUTCOMES = {
    AttemptStatus.ERROR: Outcome.ERROR,
    AttemptStatus.XFAILED: Outcome.XFAILED,
    AttemptStatus.XPASSED: Outcome.XPASSED,
}


class RunStatus(StrEnum):
    """How a whole run ended (or that it has not yet); derived from its tests unless the run
    was cut short, is still receiving results, or gave up waiting for some of them.

    ``running``: a live part is still open, or a sharded run still waits for shards.
    ``interrupted``: cut short (the report says so, or a live part's client stopped sending).
    ``incomplete``: a sharded run that did not receive every shard in time; never a pass.
    """

    PASSED = "passed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    TIMEDOUT = "timedout"
    RUNNING = "running"
    INCOMPLETE = "incomplete"


# A run the report says was cut short keeps that status, whatever its tests did.
CUT_SHORT_STATUSES = frozenset({RunStatus.INTERRUPTED, RunStatus.TIMEDOUT})
# A run that ran all it was going to: the one a later run's failures are measured against. A
# running, incomplete or cut-short run lacks some tests' results, which would read as new failures.
COMPLETE_STATUSES = frozenset({RunStatus.PASSED, RunStatus.FAILED})
# What a client may say about its run (a report's status, a live part's close): the others are
# the server's to decide.
REPORTED_STATUSES = frozenset(
    {RunStatus.PASSED, RunStatus.FAILED, RunStatus.INTERRUPTED, RunStatus.TIMEDOUT}
)


class PartState(StrEnum):
    """One part of a run (an upload, or a live session of a client, of one shard or none).

    ``open``: a live part still receiving batches; ``closed``: complete (an upload is closed
    when stored); ``interrupted``: a live part whose client stopped sending, or closed it as
    cut short. What the part received is kept in every state.
    """

    OPEN = "open"
    CLOSED = "closed"
    INTERRUPTED = "interrupted"
