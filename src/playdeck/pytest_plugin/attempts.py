"""What the recorder keeps of each test: its attempts, their phases and errors.

Filled from pytest's reports by ``recorder.Recorder``; turned into Playwright's JSON by
``report_json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_OUTPUT_CHARS = 64 * 1024
MAX_ERROR_CHARS = 64 * 1024
PHASES = ("setup", "call", "teardown")
COLLECT = "collect"  # the one phase of a test standing for a collection error

JSONObject = dict[str, Any]


def bounded(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, saying so."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - 64)
    return text[:keep] + f"\n… [playdeck: {len(text) - keep} characters cut]"


@dataclass(slots=True)
class Error:
    message: str
    stack: str | None

    def as_json(self, prefix: str = "") -> JSONObject:
        error: JSONObject = {"message": prefix + self.message}
        if self.stack:
            error["stack"] = self.stack
        return error


@dataclass(slots=True)
class Phase:
    outcome: str  # passed, failed, skipped, or pytest-rerunfailures' "rerun"
    started: float
    duration: float
    error: Error | None = None
    skip_reason: str | None = None
    xfail_reason: str | None = None  # pytest's ``wasxfail``

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "rerun")


@dataclass(slots=True)
class Artifact:
    """A file pytest-playwright kept for an attempt, sent as an attachment part ``upload_name``."""

    path: str  # absolute, on this machine
    upload_name: str = ""  # set when the report is built


@dataclass(slots=True)
class Attempt:
    retry: int
    phases: dict[str, Phase] = field(default_factory=dict)
    subtest_errors: list[JSONObject] = field(default_factory=list)
    stdout: dict[str, str] = field(default_factory=dict)  # phase -> captured text
    stderr: dict[str, str] = field(default_factory=dict)
    worker_index: int | None = None
    artifacts: list[Artifact] = field(default_factory=list)


@dataclass(slots=True)
class RecordedTest:
    file: str
    classes: list[str]
    title: str
    line: int | None
    project: str = ""  # the browser of a pytest-playwright test
    tags: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
