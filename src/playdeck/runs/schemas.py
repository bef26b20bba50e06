"""Response shapes of the runs API: run summaries, a run's detail, and its tests' results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter

from playdeck import models
from playdeck.kit.filenames import download_name
from playdeck.outcomes import FAILING_OUTCOMES, Outcome
from playdeck.quarantine.schemas import QuarantineMarks
from playdeck.runs.pages import CursorPage

# The run attributes a summary reads (``run_fields``).
RUN_COLUMNS = (
    "id",
    "name",
    "status",
    "started_at",
    "duration_ms",
    "total",
    *(outcome.value for outcome in Outcome),
    "branch",
    "commit_sha",
    "commit_message",
    "author",
    "ci_provider",
    "ci_build_number",
    "ci_build_url",
    "environment",
    "tags",
    "source_format",
    "pinned",
    "files_pruned_at",
)


def pass_rate(counts: Mapping[str, int]) -> float | None:
    """Share of executed tests that ended green, from a run's counts by name
    (``COUNT_COLUMNS``): flaky counts (it passed in the end, and so does pytest's xpassed).

    Skipped tests did not run and are left out, and so are xfailed ones: a known failure the
    suite declared, neither green nor a new failure. ``None`` when nothing counts.
    """
    executed = counts["total"] - counts["skipped"] - counts["xfailed"]
    if executed <= 0:
        return None
    return round((counts["passed"] + counts["flaky"] + counts["xpassed"]) / executed, 4)


def run_pass_rate(run: models.Run) -> float | None:
    return pass_rate({name: getattr(run, name) for name in COUNT_COLUMNS})


class ProjectRef(BaseModel):
    id: int
    name: str
    slug: str

    @classmethod
    def of(cls, project: models.Project) -> ProjectRef:
        return cls(id=project.id, name=project.name, slug=project.slug)


class RunCounts(BaseModel):
    """A run's tests by outcome (``outcomes.Outcome``, one field each) and in all."""

    total: int
    passed: int
    failed: int
    flaky: int
    skipped: int
    timedout: int
    interrupted: int
    # pytest's words (zero for other clients' runs).
    error: int
    xfailed: int
    xpassed: int

    @classmethod
    def of(cls, run: models.Run) -> RunCounts:
        return cls(**{name: getattr(run, name) for name in COUNT_COLUMNS})

    @property
    def failing(self) -> int:
        """Tests that ended in a failing outcome: failed, error, timed out or interrupted."""
        return sum(getattr(self, outcome.value) for outcome in FAILING_OUTCOMES)


# A run's counts by name, in ``RunCounts``' order (the JSON's): in all, then by outcome.
COUNT_COLUMNS = tuple(RunCounts.model_fields)


class CiInfo(BaseModel):
    provider: str | None
    build_number: str | None
    build_url: str | None


class Run(BaseModel):
    id: int
    project: ProjectRef
    name: str | None
    status: str
    started_at: datetime
    duration_ms: int
    counts: RunCounts
    pass_rate: float | None
    branch: str | None
    commit: str | None
    commit_message: str | None
    author: str | None
    ci: CiInfo
    environment: str | None
    tags: list[str]
    source_format: str
    # Retention: pinned runs are never pruned; ``files_pruned_at`` is when retention removed the
    # run's attachments and report files (its results stay).
    pinned: bool
    files_pruned_at: datetime | None
    url: str

    @classmethod
    def fields_of(cls, run: models.Run, project: models.Project, base_url: str) -> dict[str, Any]:
        ref = {"id": project.id, "name": project.name, "slug": project.slug}
        return run_fields({key: getattr(run, key) for key in RUN_COLUMNS}, ref, base_url)

    @classmethod
    def of(cls, run: models.Run, project: models.Project, base_url: str) -> Run:
        return cls(**cls.fields_of(run, project, base_url))


def run_fields(run: Mapping[Any, Any], project: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The fields of a ``Run`` (nested ones as dicts) from a run's column values by attribute
    name (``RUN_COLUMNS``): a row's ``_mapping`` of ``runs.repository.RUN_SUMMARY``.

    Rows are read through their mapping: it is several times faster than attribute access.
    """
    return {
        "id": run["id"],
        "project": project,
        "name": run["name"],
        "status": run["status"],
        "started_at": run["started_at"],
        "duration_ms": run["duration_ms"],
        "counts": {name: run[name] for name in COUNT_COLUMNS},
        "pass_rate": pass_rate(run),
        "branch": run["branch"],
        "commit": run["commit_sha"],
        "commit_message": run["commit_message"],
        "author": run["author"],
        "ci": {
            "provider": run["ci_provider"],
            "build_number": run["ci_build_number"],
            "build_url": run["ci_build_url"],
        },
        "environment": run["environment"],
        "tags": run["tags"],
        "source_format": run["source_format"],
        "pinned": run["pinned"],
        "files_pruned_at": run["files_pruned_at"],
        "url": f"{base_url}/runs/{run['id']}",
    }


class RunPage(CursorPage[Run]):
    pass


class ReportLink(BaseModel):
    id: int
    type: str
    label: str | None
    url: str

    @classmethod
    def of(cls, report: models.Report) -> ReportLink:
        return cls(id=report.id, type=report.type, label=report.label, url=report_url(report))


class RunPart(BaseModel):
    """One part of a run named by a run key: an upload, or a client's live session."""

    id: int
    shard: str | None  # "2/8"; None for a part of no shard (a CI matrix job)
    state: str  # an ``outcomes.PartState``
    reported_status: str | None
    tests: int
    expected_tests: int | None
    opened_at: datetime
    last_seen_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, part: models.RunPart) -> RunPart:
        shard = None
        if part.shard_index is not None:
            shard = f"{part.shard_index}/{part.shard_total}"
        return cls(
            id=part.id,
            shard=shard,
            state=part.state,
            reported_status=part.reported_status,
            tests=part.tests,
            expected_tests=part.expected_tests,
            opened_at=part.opened_at,
            last_seen_at=part.last_seen_at,
            closed_at=part.closed_at,
        )


class Shards(BaseModel):
    """Which shards of a sharded run arrived (numbered from 1)."""

    total: int
    arrived: list[int]
    missing: list[int]

    @classmethod
    def of(cls, total: int, parts: Sequence[models.RunPart]) -> Shards:
        arrived = sorted({p.shard_index for p in parts if p.shard_index is not None})
        missing = [i for i in range(1, total + 1) if i not in arrived]
        return cls(total=total, arrived=arrived, missing=missing)


class RunDetail(Run):
    metadata: dict[str, Any]
    created_at: datetime
    reports: list[ReportLink]
    # A run several uploads or live parts filled (``runKey``); ``None`` and ``[]`` otherwise.
    run_key: str | None
    shards: Shards | None
    parts: list[RunPart]

    @classmethod
    def of_detail(
        cls,
        run: models.Run,
        project: models.Project,
        reports: Sequence[models.Report],
        base_url: str,
        parts: Sequence[models.RunPart] = (),
    ) -> RunDetail:
        return cls(
            **cls.fields_of(run, project, base_url),
            metadata=dict(run.meta),
            created_at=run.created_at,
            reports=[ReportLink.of(r) for r in reports],
            run_key=run.run_key,
            shards=Shards.of(run.shard_total, parts) if run.shard_total else None,
            parts=[RunPart.of(p) for p in parts],
        )


def report_url(report: models.Report) -> str:
    # The entry is looked up in report_files, never joined to a filesystem path.
    return f"/api/reports/{report.id}/{quote_path(report.entry)}"


def quote_path(path: str) -> str:
    return quote(path, safe="/")


class TestRef(BaseModel):
    """A test's stable identity inside its project."""

    __test__ = False  # not a pytest test class

    id: int
    file: str
    title: str
    title_path: list[str]
    full_title: str
    browser_project: str

    @classmethod
    def of(cls, test: models.Test) -> TestRef:
        return cls(
            id=test.id,
            file=test.file,
            title=test.title,
            title_path=list(test.title_path),
            full_title=test.full_title,
            browser_project=test.browser_project,
        )


class Attachment(BaseModel):
    id: int
    name: str
    content_type: str
    size: int
    url: str
    # ``name`` with the extension its type calls for: Playwright names files "trace" and
    # "screenshot", which a download folder cannot open.
    download_name: str


def attachment_fields(row: Mapping[Any, Any]) -> dict[str, Any]:
    """An ``Attachment``'s fields from an attachment row's mapping."""
    return {
        "id": row["id"],
        "name": row["name"],
        "content_type": row["content_type"],
        "size": row["size"],
        "url": f"/api/attachments/{row['id']}",
        "download_name": download_name(row["name"], row["content_type"]),
    }


class Attempt(BaseModel):
    retry: int
    status: str
    duration_ms: int | None  # null: unknown (retries a JUnit testcase's time does not split)
    started_at: datetime | None
    error_message: str | None
    error_stack: str | None
    stdout: str | None
    stderr: str | None
    steps: list[dict[str, Any]]
    attachments: list[Attachment]
    # Playwright's code frame and the error message with its terminal colours (ANSI SGR codes
    # kept), when the report had them; ``error_message`` is the same message without colours.
    error_snippet: str | None = None
    error_ansi: str | None = None


def attempt_fields(row: Mapping[Any, Any], attachments: list[dict[str, Any]]) -> dict[str, Any]:
    """An ``Attempt``'s fields from an attempt row's mapping and its attachments' fields."""
    extra = row["extra"] or {}
    return {
        "retry": row["retry"],
        "status": row["status"],
        "duration_ms": row["duration_ms"],
        "started_at": row["started_at"],
        "error_message": row["error_message"],
        "error_stack": row["error_stack"],
        "stdout": row["stdout"],
        "stderr": row["stderr"],
        "steps": row["steps"],
        "attachments": attachments,
        "error_snippet": extra.get("snippet"),
        "error_ansi": extra.get("error_ansi"),
    }


class RunResult(BaseModel):
    """One test's result in a run, with every attempt and its attachments."""

    id: int
    test: TestRef
    outcome: str
    expected_status: str | None
    duration_ms: int
    retry_count: int
    error_message: str | None
    error_stack: str | None
    location: str | None
    tags: list[str]
    annotations: list[dict[str, Any]]
    attempts: list[Attempt]


class RunTest(QuarantineMarks, RunResult):
    """A run's result and whether its test is quarantined now (those fields last: they were
    added to the page after the others)."""

    __test__ = False  # not a pytest test class


class RunTestPage(CursorPage[RunTest]):
    pass


def run_test_fields(row: Mapping[Any, Any], attempts: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``RunTest``'s fields from a ``runs.repository.list_results`` row's mapping."""
    return {
        "id": row["id"],
        "test": {
            "id": row["test_id"],
            "file": row["file"],
            "title": row["title"],
            "title_path": row["title_path"],
            "full_title": row["full_title"],
            "browser_project": row["browser_project"],
        },
        "outcome": row["outcome"],
        "expected_status": row["expected_status"],
        "duration_ms": row["duration_ms"],
        "retry_count": row["retry_count"],
        "error_message": row["error_message"],
        "error_stack": row["error_stack"],
        "location": row["location"],
        "tags": row["tags"],
        "annotations": row["annotations"],
        "attempts": attempts,
    }


# One validation of a whole page of plain values: pydantic-core builds every nested model
# (a Python-level constructor call per attempt and attachment cost more than the query).
RUN_TESTS = TypeAdapter(list[RunTest])
RUNS = TypeAdapter(list[Run])
