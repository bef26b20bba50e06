"""Response shapes of the runs API: run summaries, a run's detail, and its tests' results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from playdeck import models


def pass_rate(*, total: int, passed: int, flaky: int, skipped: int) -> float | None:
    """Share of executed tests that ended green (flaky counts: it passed in the end).

    Skipped tests did not run and are left out; ``None`` when nothing ran.
    """
    executed = total - skipped
    if executed <= 0:
        return None
    return round((passed + flaky) / executed, 4)


class ProjectRef(BaseModel):
    id: int
    name: str
    slug: str

    @classmethod
    def of(cls, project: models.Project) -> ProjectRef:
        return cls(id=project.id, name=project.name, slug=project.slug)


class RunCounts(BaseModel):
    total: int
    passed: int
    failed: int
    flaky: int
    skipped: int
    timedout: int
    interrupted: int

    @classmethod
    def of(cls, run: models.Run) -> RunCounts:
        return cls(
            total=run.total,
            passed=run.passed,
            failed=run.failed,
            flaky=run.flaky,
            skipped=run.skipped,
            timedout=run.timedout,
            interrupted=run.interrupted,
        )


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
        return {
            "id": run.id,
            "project": ProjectRef.of(project),
            "name": run.name,
            "status": run.status,
            "started_at": run.started_at,
            "duration_ms": run.duration_ms,
            "counts": RunCounts.of(run),
            "pass_rate": pass_rate(
                total=run.total, passed=run.passed, flaky=run.flaky, skipped=run.skipped
            ),
            "branch": run.branch,
            "commit": run.commit_sha,
            "commit_message": run.commit_message,
            "author": run.author,
            "ci": CiInfo(
                provider=run.ci_provider,
                build_number=run.ci_build_number,
                build_url=run.ci_build_url,
            ),
            "environment": run.environment,
            "tags": list(run.tags),
            "source_format": run.source_format,
            "pinned": run.pinned,
            "files_pruned_at": run.files_pruned_at,
            "url": f"{base_url}/runs/{run.id}",
        }

    @classmethod
    def of(cls, run: models.Run, project: models.Project, base_url: str) -> Run:
        return cls(**cls.fields_of(run, project, base_url))


class RunPage(BaseModel):
    items: list[Run]
    next_cursor: str | None


class ReportLink(BaseModel):
    id: int
    type: str
    label: str | None
    url: str

    @classmethod
    def of(cls, report: models.Report) -> ReportLink:
        return cls(id=report.id, type=report.type, label=report.label, url=report_url(report))


class RunDetail(Run):
    metadata: dict[str, Any]
    created_at: datetime
    reports: list[ReportLink]

    @classmethod
    def of_detail(
        cls,
        run: models.Run,
        project: models.Project,
        reports: Sequence[models.Report],
        base_url: str,
    ) -> RunDetail:
        return cls(
            **cls.fields_of(run, project, base_url),
            metadata=dict(run.meta),
            created_at=run.created_at,
            reports=[ReportLink.of(r) for r in reports],
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

    @classmethod
    def of(cls, attachment: models.Attachment) -> Attachment:
        return cls(
            id=attachment.id,
            name=attachment.name,
            content_type=attachment.content_type,
            size=attachment.size,
            url=f"/api/attachments/{attachment.id}",
        )


class Attempt(BaseModel):
    retry: int
    status: str
    duration_ms: int
    started_at: datetime | None
    error_message: str | None
    error_stack: str | None
    stdout: str | None
    stderr: str | None
    steps: list[dict[str, Any]]
    attachments: list[Attachment]

    @classmethod
    def of(cls, attempt: models.Attempt, attachments: Sequence[models.Attachment]) -> Attempt:
        return cls(
            retry=attempt.retry,
            status=attempt.status,
            duration_ms=attempt.duration_ms,
            started_at=attempt.started_at,
            error_message=attempt.error_message,
            error_stack=attempt.error_stack,
            stdout=attempt.stdout,
            stderr=attempt.stderr,
            steps=list(attempt.steps),
            attachments=[Attachment.of(a) for a in attachments],
        )


class RunTest(BaseModel):
    """One test's result in a run, with every attempt and its attachments."""

    __test__ = False  # not a pytest test class

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


class RunTestPage(BaseModel):
    items: list[RunTest]
    next_cursor: str | None
