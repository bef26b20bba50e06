"""Response shapes of a test's identity, its history across runs, and a project's tests."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from playdeck.quarantine.schemas import QuarantineMarks
from playdeck.runs.analytics.schemas import FlakeStats
from playdeck.runs.pages import CursorPage
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


class HistoryPage(CursorPage[HistoryEntry]):
    pass


class ProjectTestSummary(TestRef):
    """A test of the project with its latest outcome and its flakiness over ``days``."""

    last_outcome: str | None
    last_run_at: datetime | None
    flakiness: FlakeStats | None


class ProjectTest(QuarantineMarks, ProjectTestSummary):
    """A project's test and whether it is quarantined now (those fields last: they were added
    to the page after the others)."""

    __test__ = False  # not a pytest test class


class ProjectTestPage(BaseModel):
    days: int
    items: list[ProjectTest]
    next_cursor: str | None
