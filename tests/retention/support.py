"""A project history for the retention tests: runs spread over 120 days on three kinds of
branch, each with a trace of its own, a screenshot every run shares, and an HTML report."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.ingest.records import (
    AttachmentRecord,
    AttemptRecord,
    ReportFileRecord,
    ReportRecord,
    RunRecord,
    TestRecord,
)
from playdeck.ingest.service import ingest_run
from playdeck.outcomes import AttemptStatus, Outcome
from playdeck.storage.filesystem import FilesystemBlobStore

SHARED_SCREENSHOT = b"\x89PNG the logo every run shows"
DAYS = 120


@dataclass(frozen=True)
class StoredRun:
    id: int
    branch: str
    age: timedelta
    files: frozenset[str]  # sha256 of the files only this run has


def store_run(
    engine: Engine,
    files_dir: Path,
    *,
    project: str,
    branch: str,
    started_at: datetime,
    tag: str,
) -> int:
    test = TestRecord(
        file="tests/checkout.spec.ts",
        title_path=["checkout", "pays"],
        outcome=Outcome.FAILED,
        browser_project="chromium",
        expected_status=AttemptStatus.PASSED,
        duration_ms=120,
        error_message="boom",
        attempts=[
            AttemptRecord(
                retry=0,
                status=AttemptStatus.FAILED,
                attachments=[
                    AttachmentRecord(
                        name="trace", content_type="application/zip", body=f"trace {tag}".encode()
                    ),
                    AttachmentRecord(
                        name="screenshot", content_type="image/png", body=SHARED_SCREENSHOT
                    ),
                ],
            )
        ],
    )
    report = ReportRecord(
        type="playwright-html",
        label="HTML report",
        entry="index.html",
        files=[ReportFileRecord(path="index.html", body=f"<html>{tag}</html>".encode())],
    )
    record = RunRecord(
        source_format="playwright",
        started_at=started_at,
        project_name=project,
        branch=branch,
        tests=[test],
        reports=[report],
    )
    with Session(engine) as session:
        result = ingest_run(
            session,
            store=FilesystemBlobStore(files_dir),
            principal=Principal.builtin_admin(),
            record=record,
            auto_create_project=True,
            max_file_bytes=1024 * 1024,
        )
        session.commit()
    # The run's own files were stored when it ran: a deletion may take them at once. (A file
    # claimed within the storage grace period, like the screenshot every run shares, waits.)
    stored_at = started_at.timestamp()
    for sha256 in own_files(tag):
        os.utime(files_dir / sha256[:2] / sha256[2:4] / sha256, (stored_at, stored_at))
    return result.run_id


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def own_files(tag: str) -> frozenset[str]:
    """The stored files only the run made with ``tag`` has: its trace and its report page."""
    return frozenset({sha(f"trace {tag}".encode()), sha(f"<html>{tag}</html>".encode())})


def on_disk(files_dir: Path, sha256: str) -> bool:
    return (files_dir / sha256[:2] / sha256[2:4] / sha256).is_file()
