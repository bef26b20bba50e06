"""Persisting a parsed run: files stored content-addressed first, then one short transaction
with bulk inserts.

The caller's unit of work commits. If anything fails before that, the transaction rolls back and
the files this ingest created are discarded, so a failed ingest leaves no run, no tests and no
files behind (see ``storage.gc`` for why that is safe beside concurrent ingests).
"""

from __future__ import annotations

import mimetypes
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import require_project
from playdeck.db import after_commit, end_reads
from playdeck.errors import InvalidInput, NotFound
from playdeck.ingest import idempotency as idempotency_rows
from playdeck.ingest.bounds import MAX_REPORT_LABEL_CHARS, check_bounds
from playdeck.ingest.bulk import BulkWriter, analyze_if_grown, find_test_ids
from playdeck.ingest.heap import give_back
from playdeck.ingest.idempotency import IdempotencyKey
from playdeck.ingest.records import (
    ReportRecord,
    RunRecord,
    TestRecord,
    derive_run_status,
)
from playdeck.ingest.result import IngestResult
from playdeck.ingest.rows import Rows
from playdeck.ingest.sources import FileSource, NoFiles
from playdeck.ingest.staging import StagedFiles, stage_files
from playdeck.kit.clock import utcnow
from playdeck.kit.text import check_storable, dumps_storable
from playdeck.models import Attachment, Attempt, Project, Report, ReportFile, Result, Run, Test
from playdeck.models.run_part import RunPart
from playdeck.observability.metrics import count_ingest_on_commit
from playdeck.outcomes import Outcome
from playdeck.projects.access import project_for_submit
from playdeck.projects.repository import get_by_name
from playdeck.storage.base import BlobStore
from playdeck.storage.gc import cleanup_after_rollback, discard, engine_of

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
    "run_branch",
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


class RunTarget(Protocol):
    """Where an ingest's tests go when not into a new run of their own: a run that several
    uploads or live batches fill (``ingest.live.service``)."""

    # The part this ingest adds to, once ``open`` has run: names its reports (``_store_report``).
    part: RunPart | None

    def open(self, session: Session, project: Project, row: dict[str, Any]) -> Run:
        """The run to add to (``row``: the columns of a new run), locked until the commit."""

    def settle(self, session: Session, run: Run, record: RunRecord) -> None:
        """Once the tests are inserted: the run's counts and status over everything it has."""


def _batches(rows: Sequence[dict[str, Any]]) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _upsert_tests(
    session: Session,
    bulk: BulkWriter,
    project_id: int,
    tests: Sequence[TestRecord],
    *,
    created_at: Any,
) -> list[int]:
    """Test ids for each record, in order, creating new identities.

    ``BATCH`` records at a time (their keys, lookups, inserts and ids): a first report of
    175,000 tests would otherwise hold every key, row and id mapping at once. A key seen in an
    earlier batch is found by the lookup, as one stored by another ingest would be. The insert
    answers the ids it created; only a key another ingest stored between the lookup and the
    insert (PostgreSQL; SQLite's write lock keeps everyone else out) is looked up again.
    """
    ids: list[int] = []
    created = 0
    for start in range(0, len(tests), BATCH):
        chunk = tests[start : start + BATCH]
        keys = [t.key for t in chunk]
        known = find_test_ids(session, project_id, list(dict.fromkeys(keys)))
        missing: dict[str, TestRecord] = {}
        for key, record in zip(keys, chunk, strict=True):
            if key not in known:
                missing.setdefault(key, record)
        if missing:
            rows = [_test_row(project_id, k, r, created_at) for k, r in missing.items()]
            inserted = bulk.insert_tests(rows)
            created += len(inserted)
            known.update(inserted)
            if len(inserted) < len(missing):
                stored_meanwhile = [k for k in missing if k not in inserted]
                known.update(find_test_ids(session, project_id, stored_meanwhile))
        ids.extend(known[k] for k in keys)
    # On the whole report, not per batch: whether the table grew past its statistics.
    analyze_if_grown(session.connection(), _TESTS, created)
    return ids


def _test_row(project_id: int, key: str, record: TestRecord, created_at: Any) -> tuple[Any, ...]:
    """A row of ``bulk.TEST_COLUMNS``; its text is checked here, as ``ingest.rows`` checks the
    other bulk rows (the JSON encoder checks the title path)."""
    row = (
        project_id,
        key,
        record.file,
        dumps_storable(record.title_path),
        record.title_path[-1] if record.title_path else "",
        " › ".join(record.title_path),
        record.browser_project[:200],
        created_at,
    )
    check_storable(row)
    return row


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


def _check_may_write(
    session: Session, principal: Principal, project_name: str, *, auto_create: bool
) -> None:
    """Refuse early (before any file is stored) a caller the write step would refuse."""
    project = get_by_name(session, project_name)
    if project is not None:
        require_project(session, principal, Permission.RUNS_WRITE, project.id)
    elif not auto_create:
        raise NotFound("Project not found")


def ingest_run(
    session: Session,
    *,
    store: BlobStore,
    principal: Principal,
    record: RunRecord,
    auto_create_project: bool,
    max_file_bytes: int,
    source: FileSource | None = None,
    idempotency: IdempotencyKey | None = None,
    users_can_create_projects: bool = True,
    target: RunTarget | None = None,
    consume: bool = False,
) -> IngestResult:
    """Store ``record`` as a new run of its project (created by name when allowed); with an
    ``idempotency`` key already used, answer the run stored then (see ``ingest.idempotency``).

    Three steps, so that no transaction (SQLite's write lock) and no pooled connection is held
    while files are written: check that the caller may write there (reads, then the
    connection goes back to the pool); store the files (no database); insert the rows in one
    short write transaction, which the caller's unit of work commits. If it does not commit,
    the files this ingest created are discarded (``storage.gc.discard``).

    ``consume``: ``record`` was parsed for this ingest alone (a request's body), so its inline
    attachment bytes are dropped once stored, not kept alive to the commit; a caller that
    reuses its records (tests, the demo) leaves it off.
    """
    started = time.perf_counter()
    if not record.project_name:
        raise InvalidInput("projectName is required", code="project_required")
    check_bounds(record)
    _check_may_write(session, principal, record.project_name, auto_create=auto_create_project)
    if idempotency is not None and (found := idempotency_rows.find(session, idempotency)):
        return found
    end_reads(session)

    staged = StagedFiles()
    try:
        stage_files(
            store,
            record,
            source=source or NoFiles(),
            max_bytes=max_file_bytes,
            into=staged,
            consume=consume,
        )
    except BaseException:
        discard(engine_of(session), store, staged.blobs)
        raise
    if consume:
        give_back()  # the inline attachment bytes just stored and dropped
    cleanup_after_rollback(session, store, staged.blobs)
    request_row = None
    if idempotency is not None:
        request_row, found = idempotency_rows.claim(session, idempotency)
        if found is not None:
            # A concurrent request with the key stored the run; what this one stored is
            # discarded (kept where the stored run uses it).
            engine = engine_of(session)
            after_commit(session, lambda: discard(engine, store, staged.blobs))
            return found
    result = _insert_run(
        session,
        principal,
        record,
        staged,
        auto_create=auto_create_project,
        users_can_create=users_can_create_projects,
        target=target,
    )
    count_ingest_on_commit(session, tests=len(record.tests), started=started)
    if request_row is not None:
        request_row.run_id = result.run_id
        session.flush()
    return result


def _insert_run(
    session: Session,
    principal: Principal,
    record: RunRecord,
    staged: StagedFiles,
    *,
    auto_create: bool,
    users_can_create: bool,
    target: RunTarget | None = None,
) -> IngestResult:
    assert record.project_name is not None
    project: Project = project_for_submit(
        session,
        principal=principal,
        name=record.project_name,
        description=record.project_description,
        auto_create=auto_create,
        users_can_create=users_can_create,
    ).project

    now = utcnow()
    outcomes = [t.outcome for t in record.tests]
    row = _run_row(project.id, record, outcomes)
    if target is None:
        run = Run(**row)
        session.add(run)
        session.flush()
    else:
        run = target.open(session, project, row)

    bulk = BulkWriter(session)
    created_at = bulk.adapt_datetime(now)
    test_ids = _upsert_tests(session, bulk, project.id, record.tests, created_at=created_at)
    result_ids = bulk.reserve_ids(_RESULTS, len(record.tests))
    rows = Rows(bulk, run.id, created_at=created_at)
    # A merged run's start and branch, not this part's.
    started_at = bulk.adapt_datetime(run.started_at)
    bulk.insert(
        _RESULTS,
        _RESULT_COLUMNS,
        rows.results(record.tests, test_ids, result_ids, project.id, started_at, run.branch),
    )
    attempt_count = sum(len(t.attempts) for t in record.tests)
    attempt_ids = bulk.reserve_ids(_ATTEMPTS, attempt_count)
    bulk.insert(
        _ATTEMPTS,
        _ATTEMPT_COLUMNS,
        rows.attempts(record.tests, result_ids, attempt_ids, iter(staged.attachments)),
    )
    bulk.insert(_ATTACHMENTS, _ATTACHMENT_COLUMNS, rows.attachments)

    types = Counter(report.type for report in record.reports)
    if twice := [t for t, n in types.items() if n > 1]:
        raise InvalidInput(f"Report {twice[0]!r} given twice", code="duplicate_report")
    part = None if target is None else target.part
    for report, stored_report in zip(record.reports, staged.reports, strict=True):
        _store_report(session, run.id, report, stored_report, part=part)

    if staged.missing:
        missing = staged.missing + int(run.meta.get("missing_attachments", 0))
        run.meta = {**run.meta, "missing_attachments": missing}
    if target is not None:
        target.settle(session, run, record)
    session.flush()
    return IngestResult(
        run_id=run.id, project_id=project.id, project_slug=project.slug, tests=len(record.tests)
    )


def _part_place(session: Session, part: RunPart) -> int:
    """``part``'s place among its run's parts, from 1, in the order they arrived."""
    return (
        session.scalar(
            select(func.count()).where(RunPart.run_id == part.run_id, RunPart.id <= part.id)
        )
        or 1
    )


def _report_label(
    session: Session, run_id: int, report: ReportRecord, part: RunPart | None
) -> str | None:
    """The report's own label, unless the run already has a report of its type (each shard of
    a sharded Playwright run brings its HTML report): then that label, or the report page's
    default name, followed by the part it came from: ``html report (shard 2/4)``, or
    ``(part 3)`` for a part without a shard (its place among the run's parts). The first keeps
    its plain label. Where that name is taken (a re-run shard job, a live part's later batch)
    the part's place and then the report's number follow, so that no two read the same."""
    labels = list(
        session.scalars(
            select(Report.label).where(Report.run_id == run_id, Report.type == report.type)
        )
    )
    if not labels:
        return report.label
    name = report.label or f"{report.type} report"
    if part is None:  # not reached: a run without parts is one upload, whose types are distinct
        return _labelled(name, str(len(labels) + 1))
    wheres = [f"part {_part_place(session, part)}"]
    if part.shard_index is not None:
        shard = f"shard {part.shard_index}/{part.shard_total}"
        wheres = [shard, f"{shard}, {wheres[0]}"]
    for where in wheres:
        if _labelled(name, where) not in labels:
            return _labelled(name, where)
    return _labelled(name, f"{wheres[-1]}, report {len(labels) + 1}")


def _labelled(name: str, where: str) -> str:
    """``name (where)``, ``name`` shortened so that the whole fits the label column."""
    suffix = f" ({where})"
    return name[: MAX_REPORT_LABEL_CHARS - len(suffix)] + suffix


def _store_report(
    session: Session,
    run_id: int,
    report: ReportRecord,
    stored: list[tuple[str, int]],
    *,
    part: RunPart | None,
) -> None:
    label = _report_label(session, run_id, report, part)
    row = Report(run_id=run_id, type=report.type, label=label, entry=report.entry)
    session.add(row)
    session.flush()
    file_rows = []
    for f, (sha, size) in zip(report.files, stored, strict=True):
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
