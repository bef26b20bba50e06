"""Response shapes of triage: failure groups, a run's failures against its base run, and the
comparison of two runs."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from playdeck.runs.schemas import ProjectRef, TestRef

# How a failure of a run stands against the base run (the latest run of the default branch
# before it): failing there too, known to be flaky on the default branch, or neither.
Classification = Literal["still_failing", "flaky", "new"]


class FailureGroup(BaseModel):
    """Failures with one signature (``runs.triage.signature``): the same fault, wherever it hit.

    ``title``: the first line of the latest occurrence's message. ``pattern``: what the
    signature is the hash of (the masked message and the top stack frames). ``tests``: up to
    ``TESTS_PER_GROUP`` of the tests it hit, most recent first.
    """

    signature: str
    title: str
    pattern: str
    tests_affected: int
    occurrences: int
    flaky: int
    runs: int
    first_seen: datetime
    last_seen: datetime
    latest_run_id: int
    tests: list[TestRef]


class FailureGroupReport(BaseModel):
    """Failure groups of a project over ``days`` on ``branch`` (``null``: every branch), most
    tests affected first. ``scanned``: the failing results read; ``truncated``: more failed in
    the window than are read (the most recent are)."""

    project: ProjectRef
    days: int
    since: datetime
    branch: str | None
    scanned: int
    truncated: bool
    items: list[FailureGroup]


class RunBrief(BaseModel):
    """A run as triage names it (read from a ``models.Run``)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str | None
    branch: str | None
    commit: str | None = Field(validation_alias="commit_sha")
    started_at: datetime
    status: str


class TriagedFailure(BaseModel):
    test: TestRef
    outcome: str
    classification: Classification
    signature: str
    error: str | None


class RunTriage(BaseModel):
    """A run's failures as new, still failing or flaky, and the tests it fixed, against its
    base run (``null`` when there is none: then every failure not known to be flaky is new)."""

    run_id: int
    base_run: RunBrief | None
    default_branch: str | None
    failures: list[TriagedFailure]
    fixed: list[TestRef]
    new: int
    still_failing: int
    flaky: int


class ComparedTest(BaseModel):
    test: TestRef
    base_outcome: str | None
    head_outcome: str | None
    base_duration_ms: int | None
    head_duration_ms: int | None


class RunComparison(BaseModel):
    """What changed from ``base`` to ``head``: tests that started failing, were fixed, still
    fail, appeared, disappeared, or changed otherwise (e.g. passed, then skipped). Each list
    holds at most ``MAX_COMPARED`` tests; ``truncated`` says a list was cut."""

    base: RunBrief
    head: RunBrief
    newly_failing: list[ComparedTest]
    fixed: list[ComparedTest]
    still_failing: list[ComparedTest]
    added: list[ComparedTest]
    removed: list[ComparedTest]
    changed: list[ComparedTest]
    unchanged: int
    truncated: bool
