"""Typed records every parser produces and the ingest service persists.

Parsers are pure: bytes or decoded JSON in, these records out; no database, no file system.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from playdeck.outcomes import (
    CUT_SHORT_STATUSES,
    FAILING_OUTCOMES,
    PYTEST_STATUS_OUTCOMES,
    AttemptStatus,
    Outcome,
    RunStatus,
)


class ReportFormatError(ValueError):
    """The input is not a valid report; the message says where it failed."""


class MalformedJSON(ReportFormatError):
    """The input is not well-formed JSON (400, where a wrong value is 422)."""


class ArchiveTooLarge(ReportFormatError):
    """An archive that unpacks far beyond its size (compression ratio): a bomb (413)."""


@dataclass(slots=True)
class AttachmentRecord:
    name: str
    content_type: str
    body: bytes | None = None  # given inline
    path: str | None = None  # given by path, relative to the report; resolved by the service


@dataclass(slots=True)
class AttemptRecord:
    retry: int
    status: AttemptStatus
    duration_ms: int | None = 0  # None: unknown
    started_at: datetime | None = None
    error_message: str | None = None
    error_stack: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    # Usually empty: one shared empty tuple then, not a fresh list per attempt (56 bytes each,
    # 20 MiB over a 175,000-test report). Parsers assign a new sequence, never change one.
    steps: Sequence[dict[str, Any]] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    attachments: Sequence[AttachmentRecord] = ()
    # Position of this attempt in a per-attempt input (the PhenX reporter's testCases[N]).
    source_index: int | None = None


@dataclass(slots=True)
class TestRecord:
    __test__ = False  # not a pytest test class

    file: str
    title_path: list[str]  # describe blocks, then the test's own title
    outcome: Outcome
    browser_project: str = ""
    expected_status: AttemptStatus | None = None
    duration_ms: int = 0
    location: str | None = None
    tags: list[str] = field(default_factory=list)
    annotations: list[dict[str, Any]] = field(default_factory=list)
    error_message: str | None = None
    error_stack: str | None = None
    attempts: list[AttemptRecord] = field(default_factory=list)

    @property
    def key(self) -> str:
        return test_key(self.file, self.title_path, self.browser_project)


@dataclass(slots=True)
class ReportFileRecord:
    path: str
    body: bytes


@dataclass(slots=True)
class ReportRecord:
    type: str
    label: str | None
    entry: str
    files: list[ReportFileRecord]


@dataclass(slots=True)
class RunRecord:
    source_format: str
    started_at: datetime
    duration_ms: int = 0
    status: RunStatus | None = None  # as reported; the stored status is derived from the results
    project_name: str | None = None
    project_description: str | None = None
    name: str | None = None
    branch: str | None = None
    commit_sha: str | None = None
    commit_message: str | None = None
    author: str | None = None
    ci_provider: str | None = None
    ci_build_number: str | None = None
    ci_build_url: str | None = None
    environment: str | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    tests: list[TestRecord] = field(default_factory=list)
    reports: list[ReportRecord] = field(default_factory=list)


def attempts_duration(attempts: list[AttemptRecord]) -> int:
    """A test's time from its attempts' (unknown ones count for nothing)."""
    return sum(a.duration_ms or 0 for a in attempts)


def test_key(file: str, title_path: list[str], browser_project: str) -> str:
    """Stable identity of a test inside a project (unit separator cannot occur in titles)."""
    raw = _identity(file, title_path, browser_project)
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _identity(file: str, title_path: list[str], browser_project: str) -> str:
    """What ``test_key`` hashes: equal exactly when the keys are."""
    return "\x1f".join([file, browser_project, *title_path])


test_key.__test__ = False  # type: ignore[attr-defined]


def fold_outcome(
    attempt_statuses: list[AttemptStatus],
    expected_status: AttemptStatus = AttemptStatus.PASSED,
) -> Outcome:
    """Final outcome from the attempts' statuses, in order (Playwright's rules).

    The last attempt decides; a pass after a failed attempt is flaky; a test expected to fail
    that fails is a pass (``test.fail()``), and one expected to fail that passes is a failure.
    An attempt in one of pytest's words (``error``, ``xfailed``, ``xpassed``) gives the test
    that outcome: pytest has already judged it against its expectation.
    """
    if not attempt_statuses:
        return Outcome.SKIPPED
    last = attempt_statuses[-1]
    if last == AttemptStatus.SKIPPED:
        return Outcome.SKIPPED
    if last == expected_status:
        earlier_failed = any(
            s != expected_status and s not in _NOT_A_FAILURE for s in attempt_statuses[:-1]
        )
        return Outcome.FLAKY if earlier_failed else Outcome.PASSED
    if last == AttemptStatus.TIMEDOUT:
        return Outcome.TIMEDOUT
    if last == AttemptStatus.INTERRUPTED:
        return Outcome.INTERRUPTED
    return PYTEST_STATUS_OUTCOMES.get(last, Outcome.FAILED)


# Earlier attempts that end like these make no test flaky: they did not fail.
_NOT_A_FAILURE = frozenset({AttemptStatus.SKIPPED, AttemptStatus.XFAILED, AttemptStatus.XPASSED})


def derive_run_status(outcomes: list[Outcome], reported: RunStatus | None) -> RunStatus:
    if reported in CUT_SHORT_STATUSES:
        return reported
    if any(o in FAILING_OUTCOMES for o in outcomes):
        return RunStatus.FAILED
    return RunStatus.PASSED


def merge_outcomes(outcomes: list[Outcome]) -> Outcome:
    """One outcome for a test that ran several independent times in a run; the worst wins.

    For repeats (``--repeat-each``) and for runs of several projects that a format cannot tell
    apart; retries of one run are folded with ``fold_outcome`` instead.
    """
    return min(outcomes, key=lambda o: Outcome(o).rank, default=Outcome.SKIPPED)


def merge_repeats(tests: list[TestRecord]) -> list[TestRecord]:
    """Tests with the same key folded into one, first appearance order kept.

    Attempts are concatenated (each marked with ``extra["repeat"]``), durations added, and the
    error shown is that of the repeat whose outcome became the test's outcome.
    """
    if not _may_repeat(tests):
        return tests  # the common case: no test ran twice
    first: dict[str, TestRecord] = {}
    repeated: dict[str, list[TestRecord]] = {}
    for test in tests:
        identity = _identity(test.file, test.title_path, test.browser_project)
        if identity in first:
            repeated.setdefault(identity, [first[identity]]).append(test)
        else:
            first[identity] = test
    if not repeated:
        return tests  # two identities' hashes collided, not the identities
    return [
        _merged(repeated[identity]) if identity in repeated else test
        for identity, test in first.items()
    ]


def _may_repeat(tests: list[TestRecord]) -> bool:
    """Whether two of ``tests`` may share an identity: ``False`` when their identities' hashes
    all differ. A set of ints, not a dict of every identity string, is what a 175,000-test
    report holds at the end of its parse; a collision only sends it the exact way."""
    seen: set[int] = set()
    for test in tests:
        hashed = hash(_identity(test.file, test.title_path, test.browser_project))
        if hashed in seen:
            return True
        seen.add(hashed)
    return False


def _merged(group: list[TestRecord]) -> TestRecord:
    first = group[0]
    outcome = merge_outcomes([t.outcome for t in group])
    worst = next(t for t in group if t.outcome == outcome)
    attempts: list[AttemptRecord] = []
    for index, test in enumerate(group):
        for attempt in test.attempts:
            attempt.extra["repeat"] = index
            attempts.append(attempt)
    return TestRecord(
        file=first.file,
        title_path=first.title_path,
        outcome=outcome,
        browser_project=first.browser_project,
        expected_status=first.expected_status,
        duration_ms=sum(t.duration_ms for t in group),
        location=first.location,
        tags=list(dict.fromkeys(tag for t in group for tag in t.tags)),
        annotations=unique_annotations([a for t in group for a in t.annotations]),
        error_message=worst.error_message,
        error_stack=worst.error_stack,
        attempts=attempts,
    )


def unique_annotations(annotations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[object, object]] = set()
    unique = []
    for annotation in annotations:
        marker = (annotation.get("type"), annotation.get("description"))
        if marker not in seen:
            seen.add(marker)
            unique.append(annotation)
    return unique
