"""Persisting a parsed run: one transaction, bulk inserts, files stored content-addressed.

The caller's unit of work commits. If anything fails before that, the transaction rolls back and
every file this ingest wrote that no committed row references is deleted, so a failed ingest
leaves no run, no tests and no files behind.
"""

from __future__ import annotations

import mimetypes
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.errors import BadRequest, InvalidInput
from playdeck.ingest.bulk import BulkWriter, analyze_if_grown, find_test_ids
from playdeck.ingest.records import (
    AttachmentRecord,
    ReportFormatError,
    ReportRecord,
    RunRecord,
    TestRecord,
    derive_run_status,
)
from playdeck.ingest.sources import FileSource, NoFiles
from playdeck.kit.clock import utcnow
from playdeck.kit.text import clean_text
from playdeck.models import Attachment, Attempt, Project, Report, ReportFile, Result, Run, Test
from playdeck.models.attempt import MAX_OUTPUT_CHARS
from playdeck.outcomes import Outcome
from playdeck.projects.access import project_for_submit
from playdeck.storage.base import BlobStore, BlobTooLarge
from playdeck.storage.gc import cleanup_after_rollback

MAX_ERROR_CHARS = 32 * 1024
# Bounds of a test's identity (docs/security.md, "Input limits"): refused, never cut, because a
# cut title would merge two tests into one.
MAX_TITLE_CHARS = 4096
MAX_TITLE_DEPTH = 64
MAX_FILE_CHARS = 4096
MAX_BROWSER_PROJECT_CHARS = 200
MAX_PROJECT_NAME_CHARS = 200
MAX_ATTACHMENT_NAME_CHARS = 1024
# Rows per executemany batch: large enough to amortise round trips, small enough for
# PostgreSQL's 65,535 bind-parameter limit per statement.
BATCH = 2000

_TESTS: Table = Test.__table__  # type: ignore[assignment]
_RESULTS: Table = Result.__table__  # type: ignore[assignment]
_ATTEMPTS: Table = Attempt.__table__  # type: ignore[assignment]
_ATTACHMENTS: Table = Attachment.__table__  # type: ignore[assignment]
_REPORT_FILES: Table = ReportFile.__table__  # type: ignore[assignment]


_RESULT_COLUMNS = (
    "id",
    "run_id",
    "test_id",
    "project_id",
    "run_started_at",
    "outcome",
    "rank",
    "expected_status",
    "duration_ms",
    "retry_count",
    "error_message",
    "error_stack",
    "location",
    "tags",
    "annotations",
)
_ATTEMPT_COLUMNS = (
    "id",
    "result_id",
    "retry",
    "status",
    "duration_ms",
    "started_at",
    "error_message",
    "error_stack",
    "stdout",
    "stderr",
    "steps",
    "extra",
)
_ATTACHMENT_COLUMNS = (
    "attempt_id",
    "run_id",
    "name",
    "content_type",
    "size",
    "sha256",
    "created_at",
)


@dataclass(frozen=True, slots=True)
class IngestResult:
    run_id: int
    project_id: int
    project_slug: str


@dataclass(slots=True)
class RunOverrides:
    """Form fields that override what the report says."""

    branch: str | None = None
    commit: str | None = None
    commit_message: str | None = None
    author: str | None = None
    ci_provider: str | None = None
    build_number: str | None = None
    build_url: str | None = None
    environment: str | None = None
    run_name: str | None = None
    tags: list[str] | None = None

    def apply(self, record: RunRecord) -> None:
        for attribute, value in (
            ("branch", self.branch),
            ("commit_sha", self.commit),
            ("commit_message", self.commit_message),
            ("author", self.author),
            ("ci_provider", self.ci_provider),
            ("ci_build_number", self.build_number),
            ("ci_build_url", self.build_url),
            ("environment", self.environment),
            ("name", self.run_name),
        ):
            if value:
                setattr(record, attribute, value)
        if self.tags:
            record.tags = list(dict.fromkeys([*record.tags, *self.tags]))


def _batches(rows: Sequence[dict[str, Any]]) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _upsert_tests(
    session: Session, project_id: int, tests: Sequence[TestRecord], keys: Sequence[str]
) -> list[int]:
    """Test ids for each record (``keys[i]`` is ``tests[i].key``), creating new identities."""
    known = find_test_ids(session, project_id, list(dict.fromkeys(keys)))
    missing: dict[str, TestRecord] = {}
    for key, record in zip(keys, tests, strict=True):
        if key not in known:
            missing.setdefault(key, record)
    if missing:
        rows = [
            {
                "project_id": project_id,
                "key": key,
                "file": r.file,
                "title_path": r.title_path,
                "title": r.title_path[-1] if r.title_path else "",
                "full_title": " › ".join(r.title_path),
                "browser_project": r.browser_project[:200],
            }
            for key, r in missing.items()
        ]
        dialect = session.get_bind().dialect.name
        # A concurrent ingest may create the same identity: skip it here, read its id below.
        statement: Any
        if dialect == "postgresql":
            statement = postgresql.insert(_TESTS).on_conflict_do_nothing(
                index_elements=["project_id", "key"]
            )
        elif dialect == "sqlite":
            statement = sqlite.insert(_TESTS).on_conflict_do_nothing(
                index_elements=["project_id", "key"]
            )
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            statement = insert(_TESTS)
        for chunk_rows in _batches(rows):
            session.execute(statement, list(chunk_rows))
        analyze_if_grown(session.connection(), _TESTS, len(rows))
        known.update(find_test_ids(session, project_id, list(missing)))
    return [known[k] for k in keys]


def _content_type(attachment: AttachmentRecord) -> str:
    if attachment.content_type:
        return attachment.content_type[:200]
    guessed, _ = mimetypes.guess_type(attachment.path or attachment.name)
    return guessed or "application/octet-stream"


class _Files:
    """Stores blobs and remembers the ones this ingest created, for cleanup on rollback."""

    def __init__(self, store: BlobStore, source: FileSource, max_bytes: int) -> None:
        self.store = store
        self.source = source
        self.max_bytes = max_bytes
        self.created: set[str] = set()
        self.missing = 0

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        blob = self.store.put_bytes(data)
        if blob.created:
            self.created.add(blob.sha256)
        return blob.sha256, blob.size

    def put_attachment(self, attachment: AttachmentRecord) -> tuple[str, int] | None:
        if attachment.body is not None:
            return self.put_bytes(attachment.body)
        if attachment.path is None:
            return None
        handle = self.source.open(attachment.path)
        if handle is None:
            self.missing += 1
            return None
        with handle:
            try:
                blob = self.store.put_stream(handle, max_bytes=self.max_bytes)
            except BlobTooLarge as exc:
                raise InvalidInput(
                    f"Attachment {attachment.name!r} is larger than the upload limit",
                    code="attachment_too_large",
                ) from exc
            except ReportFormatError as exc:
                raise BadRequest(
                    f"Unsafe or invalid archive: {exc}", code="invalid_archive"
                ) from exc
        if blob.created:
            self.created.add(blob.sha256)
        return blob.sha256, blob.size


def _cut(value: str | None, limit: int) -> str | None:
    return None if value is None else value[:limit]


def _run_row(project_id: int, record: RunRecord, outcomes: list[Outcome]) -> dict[str, Any]:
    """Column values of the run; free-text fields are cut to their column sizes."""
    counts = Counter(outcomes)
    return {
        "project_id": project_id,
        "name": _cut(record.name, 300),
        "started_at": record.started_at,
        "duration_ms": max(0, int(record.duration_ms)),
        "status": derive_run_status(outcomes, record.status),
        "total": len(outcomes),
        # One count column per outcome, named by its value.
        **{outcome.value: counts[outcome] for outcome in Outcome},
        "branch": _cut(record.branch, 300),
        "commit_sha": _cut(record.commit_sha, 100),
        "commit_message": record.commit_message,
        "author": _cut(record.author, 300),
        "ci_provider": _cut(record.ci_provider, 100),
        "ci_build_number": _cut(record.ci_build_number, 100),
        "ci_build_url": record.ci_build_url,
        "environment": _cut(record.environment, 200),
        "tags": record.tags,
        "meta": record.metadata,
        "source_format": record.source_format,
    }


def _too_long(what: str, limit: int) -> InvalidInput:
    return InvalidInput(f"{what} is longer than {limit} characters", code="field_too_long")


def check_bounds(record: RunRecord) -> None:
    """422 for a report whose names are beyond the documented limits."""
    if len(record.project_name or "") > MAX_PROJECT_NAME_CHARS:
        raise _too_long("projectName", MAX_PROJECT_NAME_CHARS)
    for test in record.tests:
        if len(test.title_path) > MAX_TITLE_DEPTH:
            raise InvalidInput(
                f"A test is nested more than {MAX_TITLE_DEPTH} describe blocks deep",
                code="field_too_long",
            )
        if any(len(part) > MAX_TITLE_CHARS for part in test.title_path):
            raise _too_long("A test title", MAX_TITLE_CHARS)
        if len(test.file) > MAX_FILE_CHARS:
            raise _too_long("A test file path", MAX_FILE_CHARS)
        if len(test.browser_project) > MAX_BROWSER_PROJECT_CHARS:
            raise _too_long("A browser project name", MAX_BROWSER_PROJECT_CHARS)
        for attempt in test.attempts:
            for attachment in attempt.attachments:
                if len(attachment.name) > MAX_ATTACHMENT_NAME_CHARS:
                    raise _too_long("An attachment name", MAX_ATTACHMENT_NAME_CHARS)


def ingest_run(
    session: Session,
    *,
    store: BlobStore,
    principal: Principal,
    record: RunRecord,
    auto_create_project: bool,
    max_file_bytes: int,
    source: FileSource | None = None,
    users_can_create_projects: bool = True,
) -> IngestResult:
    """Store ``record`` as a new run of its project. ``auto_create_project`` and
    ``users_can_create_projects`` are the server's settings of those names; whether this
    ``principal`` may create the project, or write to it, is ``projects.access``'s decision."""
    if not record.project_name:
        raise InvalidInput("projectName is required", code="project_required")
    check_bounds(record)
    project: Project = project_for_submit(
        session,
        principal=principal,
        name=record.project_name,
        description=record.project_description,
        auto_create=auto_create_project,
        users_can_create=users_can_create_projects,
    ).project

    files = _Files(store, source or NoFiles(), max_file_bytes)
    cleanup_after_rollback(session, store, files.created)

    now = utcnow()
    outcomes = [t.outcome for t in record.tests]
    run = Run(**_run_row(project.id, record, outcomes))
    session.add(run)
    session.flush()

    keys = [t.key for t in record.tests]
    test_ids = _upsert_tests(session, project.id, record.tests, keys)
    bulk = BulkWriter(session)
    started_at = bulk.adapt_datetime(record.started_at)
    json = bulk.adapt_json
    result_ids = bulk.reserve_ids(_RESULTS, len(record.tests))
    bulk.insert(
        _RESULTS,
        _RESULT_COLUMNS,
        [
            (
                result_id,
                run.id,
                test_id,
                project.id,
                started_at,
                t.outcome,
                Outcome(t.outcome).rank,
                t.expected_status,
                max(0, int(t.duration_ms)),
                max(0, len(t.attempts) - 1),
                clean_text(t.error_message, limit=MAX_ERROR_CHARS),
                clean_text(t.error_stack, limit=MAX_ERROR_CHARS),
                t.location,
                json(t.tags),
                json(t.annotations),
            )
            for t, test_id, result_id in zip(record.tests, test_ids, result_ids, strict=True)
        ],
    )

    attempt_count = sum(len(t.attempts) for t in record.tests)
    attempt_ids = iter(bulk.reserve_ids(_ATTEMPTS, attempt_count))
    attempt_rows: list[tuple[Any, ...]] = []
    attachment_rows: list[tuple[Any, ...]] = []
    for t, result_id in zip(record.tests, result_ids, strict=True):
        for a in t.attempts:
            attempt_id = next(attempt_ids)
            attempt_rows.append(
                (
                    attempt_id,
                    result_id,
                    a.retry,
                    a.status,
                    max(0, int(a.duration_ms)),
                    bulk.adapt_datetime(a.started_at),
                    clean_text(a.error_message, limit=MAX_ERROR_CHARS),
                    clean_text(a.error_stack, limit=MAX_ERROR_CHARS),
                    clean_text(a.stdout, limit=MAX_OUTPUT_CHARS),
                    clean_text(a.stderr, limit=MAX_OUTPUT_CHARS),
                    json(a.steps),
                    json(a.extra),
                )
            )
            for attachment in a.attachments:
                stored = files.put_attachment(attachment)
                if stored is not None:
                    sha, size = stored
                    attachment_rows.append(
                        (
                            attempt_id,
                            run.id,
                            attachment.name[:500] or "attachment",
                            _content_type(attachment),
                            size,
                            sha,
                            bulk.adapt_datetime(now),
                        )
                    )
    bulk.insert(_ATTEMPTS, _ATTEMPT_COLUMNS, attempt_rows)
    bulk.insert(_ATTACHMENTS, _ATTACHMENT_COLUMNS, attachment_rows)

    for report in record.reports:
        _store_report(session, files, run.id, report)

    if files.missing:
        run.meta = {**run.meta, "missing_attachments": files.missing}
    session.flush()
    return IngestResult(run_id=run.id, project_id=project.id, project_slug=project.slug)


def _store_report(session: Session, files: _Files, run_id: int, report: ReportRecord) -> None:
    existing = session.scalar(
        select(Report).where(Report.run_id == run_id, Report.type == report.type)
    )
    if existing is not None:
        raise InvalidInput(f"Report {report.type!r} given twice", code="duplicate_report")
    row = Report(run_id=run_id, type=report.type, label=report.label, entry=report.entry)
    session.add(row)
    session.flush()
    file_rows = []
    for f in report.files:
        sha, size = files.put_bytes(f.body)
        guessed, _ = mimetypes.guess_type(f.path)
        file_rows.append(
            {
                "report_id": row.id,
                "path": f.path,
                "content_type": guessed or "application/octet-stream",
                "size": size,
                "sha256": sha,
            }
        )
    for chunk in _batches(file_rows):
        session.execute(insert(_REPORT_FILES), list(chunk))
