"""What a backup does with stored files that are gone or damaged: it says so, and restore never
puts a file whose bytes do not match its name back into the store."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.backup.layout import FILES, BackupError, blob_path
from playdeck.backup.service import create_backup, restore_backup
from playdeck.ingest.records import AttachmentRecord, AttemptRecord, RunRecord, TestRecord
from playdeck.ingest.service import ingest_run
from playdeck.kit.clock import utcnow
from playdeck.outcomes import AttemptStatus, Outcome
from playdeck.retention.lock import job_lock
from playdeck.settings import Settings
from playdeck.storage.filesystem import FilesystemBlobStore

TRACE = b"PK the trace"
SCREENSHOT = b"\x89PNG the screenshot"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _store_run(engine: Engine, settings: Settings) -> None:
    attachments = [
        AttachmentRecord(name="trace", content_type="application/zip", body=TRACE),
        AttachmentRecord(name="screenshot", content_type="image/png", body=SCREENSHOT),
    ]
    test = TestRecord(
        file="a.spec.ts",
        title_path=["works"],
        outcome=Outcome.FAILED,
        attempts=[AttemptRecord(retry=0, status=AttemptStatus.FAILED, attachments=attachments)],
    )
    record = RunRecord(
        source_format="playwright", started_at=utcnow(), project_name="Shop", tests=[test]
    )
    with Session(engine) as session:
        ingest_run(
            session,
            store=FilesystemBlobStore(settings.files_dir),
            principal=Principal.builtin_admin(),
            record=record,
            auto_create_project=True,
            max_file_bytes=1024 * 1024,
        )
        session.commit()


@pytest.fixture
def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("file handling is the same on PostgreSQL; the dump path has its own test")


def test_a_missing_file_is_listed_and_the_rest_is_backed_up(
    sqlite_only: None, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    _store_run(engine, settings)
    blob_path(settings.files_dir, _sha(TRACE)).unlink()
    manifest = create_backup(settings, tmp_path / "backup")
    assert manifest.missing_files == [_sha(TRACE)]
    assert manifest.files == 1 and manifest.bytes == len(SCREENSHOT)
    assert blob_path(tmp_path / "backup" / FILES, _sha(SCREENSHOT)).read_bytes() == SCREENSHOT
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".backup.partial")]


def test_restore_skips_a_damaged_file(
    sqlite_only: None,
    engine: Engine,
    settings: Settings,
    tmp_path: Path,
) -> None:
    _store_run(engine, settings)
    create_backup(settings, tmp_path / "backup")
    blob_path(tmp_path / "backup" / FILES, _sha(TRACE)).write_bytes(b"tampered")
    target = Settings(_env_file=None, data_dir=tmp_path / "restored")
    restored = restore_backup(target, tmp_path / "backup")
    assert restored.missing_files == [_sha(TRACE)]
    assert not blob_path(target.files_dir, _sha(TRACE)).exists()
    assert blob_path(target.files_dir, _sha(SCREENSHOT)).read_bytes() == SCREENSHOT


def test_a_failed_backup_leaves_nothing_behind(
    sqlite_only: None, settings: Settings, tmp_path: Path
) -> None:
    empty = Settings(_env_file=None, data_dir=tmp_path / "nothing-here")
    with pytest.raises(BackupError, match="no database"):
        create_backup(empty, tmp_path / "out" / "backup")
    assert list((tmp_path / "out").iterdir()) == []


def test_a_backup_waits_for_a_prune_under_way(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """The retention lock is held (a prune is running): the backup starts only once it is
    released, so no prune deletes files between its snapshot and its copy."""
    _store_run(engine, settings)
    finished: list[float] = []

    def back_up() -> None:
        create_backup(settings, tmp_path / "backup")
        finished.append(time.monotonic())

    worker = threading.Thread(target=back_up)
    with job_lock(engine, settings.data_dir) as held:
        assert held
        worker.start()
        worker.join(1.5)
        assert worker.is_alive() and finished == []
        released = time.monotonic()
    worker.join(60)
    assert finished and finished[0] > released
    assert (tmp_path / "backup" / "manifest.json").is_file()
