"""Response shapes of a test's identity, its history across runs, and a project's tests."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from playdeck.quarantine.schemas import QuarantineMarks
from playdeck.runs.analytics.schemas import FlakeStats
from playdeck.runs.schemas import ProjectRef, TestRef


class TestDetail(TestRef):
    __test__ = False  # not a pytest test class

    project: ProjectRef
    created_at: datetime


class HistoryEntry(BaseModel):
    result_id: int
    run_id: int
    run_name: str | None
    started_at: datetime
    branch: str | None
    commit: str | None
    outcome: str
    duration_ms: int
    retry_count: int
    error_message: str | None


class HistoryPage(BaseModel):
    items: list[HistoryEntry]
    next_cursor: str | None


class ProjectTest(TestRef, QuarantineMarks):
    """A test of the project with its latest outcome, its flakiness over ``days`` and whether
    it is quarantined now."""

    __test__ = False  # not a pytest test class

    last_outcome: str | None
    last_run_at: datetime | None
    flakiness: FlakeStats | None


class ProjectTestPage(BaseModel):
    days: int
    items: list[ProjectTest]
    next_cursor: str | None
