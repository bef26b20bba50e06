"""Deleting stored files safely: after a rollback, after a deletion, and by sweeps (real
SQLite/PostgreSQL database, real files)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.ingest.records import AttachmentRecord, AttemptRecord, RunRecord, TestRecord
from playdeck.ingest.service import ingest_run
from playdeck.kit.clock import utcnow
from playdeck.outcomes import AttemptStatus, Outcome
from playdeck.storage.filesystem import FilesystemBlobStore
from playdeck.storage.gc import discard, reclaim_unreferenced, sweep
from playdeck.storage.sweeper import PeriodicSweep

HOUR = 3600


@pytest.fixture
def store(tmp_path: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "files", grace_seconds=HOUR)


def _run(*bodies: bytes) -> RunRecord:
    attachments = [
        AttachmentRecord(name=f"shot-{i}.png", content_type="image/png", body=body)
        for i, body in enumerate(bodies)
    ]
    test = TestRecord(
        file="a.spec.ts",
        title_path=["a"],
        browser_project="chromium",
        outcome=Outcome.FAILED,
        attempts=[AttemptRecord(retry=0, status=AttemptStatus.FAILED, attachments=attachments)],
    )
    return RunRecord(
        source_format="playwright", started_at=utcnow(), project_name="p", tests=[test]
    )


def _ingest(engine: Engine, store: FilesystemBlobStore, *bodies: bytes) -> int:
    with Session(engine) as session:
        result = ingest_run(
            session,
            store=store,
            principal=Principal.builtin_admin(),
            record=_run(*bodies),
            auto_create_project=True,
            max_file_bytes=1024 * 1024,
        )
        session.commit()
    return result.run_id


def _age(store: FilesystemBlobStore, sha: str, seconds: float) -> None:
    path = store.root / sha[:2] / sha[2:4] / sha
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_rollback_keeps_the_files_a_concurrent_ingest_claimed(
    engine: Engine, store: FilesystemBlobStore
) -> None:
    """The failing ingest created the file; the other one reused it before the rollback and
    commits after it (the lost-screenshot race): the file must stay."""
    failing = store.put_bytes(b"identical screenshot")
    assert failing.created
    claimed = store.put_bytes(b"identical screenshot")  # the other ingest, not committed yet
    assert not claimed.created
    assert discard(engine, store, [failing]) == 0  # the failing ingest's rollback
    assert store.exists(failing.sha256)
    _ingest(engine, store, b"identical screenshot")  # the other ingest commits
    assert store.exists(failing.sha256)


def test_a_rollback_removes_the_files_only_it_used(
    engine: Engine, store: FilesystemBlobStore
) -> None:
    mine = store.put_bytes(b"only mine")
    assert discard(engine, store, [mine]) == 1
    assert not store.exists(mine.sha256)


def test_a_rollback_removes_a_file_it_stored_twice(
    engine: Engine, store: FilesystemBlobStore
) -> None:
    """One screenshot attached to two attempts: the failing write's second put claims its own
    file, which is no one else's claim."""
    first = store.put_bytes(b"attached twice")
    again = store.put_bytes(b"attached twice")
    assert first.created and not again.created
    assert discard(engine, store, [first, again]) == 1
    assert not store.exists(first.sha256)


def test_a_rollback_keeps_a_file_another_ingest_claimed_between_its_own_two_puts(
    engine: Engine, store: FilesystemBlobStore
) -> None:
    """The failing write stores a file, another ingest claims it, then the failing write puts
    the same bytes again (the same report twice, as `tests/faults/test_file_races.py` does):
    its last stamp is its own, but the claim in between was not, so the file stays."""
    first = store.put_bytes(b"the same report")
    other = store.put_bytes(b"the same report")  # the concurrent ingest, not committed yet
    again = store.put_bytes(b"the same report")
    assert first.created and not other.created and not again.created
    assert again.found == other.stamp != first.stamp
    assert discard(engine, store, [first, again]) == 0
    assert store.exists(first.sha256)


def test_a_failed_ingest_with_a_repeated_attachment_leaves_no_files(
    engine: Engine, store: FilesystemBlobStore
) -> None:
    with Session(engine) as session:
        ingest_run(
            session,
            store=store,
            principal=Principal.builtin_admin(),
            record=_run(b"same shot", b"same shot", b"other shot"),
            auto_create_project=True,
            max_file_bytes=1024 * 1024,
        )
        session.rollback()
    assert list(store.iter_blobs()) == []


def test_a_failed_ingest_leaves_no_files(engine: Engine, store: FilesystemBlobStore) -> None:
    with Session(engine) as session:
        ingest_run(
            session,
            store=store,
            principal=Principal.builtin_admin(),
            record=_run(b"never committed"),
            auto_create_project=True,
            max_file_bytes=1024 * 1024,
        )
        session.rollback()
    assert list(store.iter_blobs()) == []


def test_a_file_stays_referenced_when_the_commit_outcome_is_unknown(
    engine: Engine, store: FilesystemBlobStore
) -> None:
    """A rollback hook that runs after all (a commit that failed on the way back) must not
    delete what a committed row uses."""
    _ingest(engine, store, b"committed")
    [blob] = list(store.iter_blobs())
    created = store.put_bytes(b"committed")  # a claim: not created by this writer
    assert not created.created
    assert discard(engine, store, [created]) == 0
    assert store.exists(blob.name)


def test_deleted_runs_files_go_only_once_unclaimed_for_the_grace_period(
    engine: Engine, store: FilesystemBlobStore
) -> None:
    old = store.put_bytes(b"old and unused")
    fresh = store.put_bytes(b"claimed a moment ago")
    _age(store, old.sha256, 2 * HOUR)
    removed = reclaim_unreferenced(engine, store, {old.sha256, fresh.sha256}, grace_seconds=HOUR)
    assert removed == 1
    assert not store.exists(old.sha256)
    assert store.exists(fresh.sha256)


def _leftover(store: FilesystemBlobStore, name: str, body: bytes, age: float) -> Path:
    path = store.root / "tmp" / name
    path.write_bytes(body)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_sweep_reports_then_removes_orphans_and_leftovers(
    engine: Engine, store: FilesystemBlobStore, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest(engine, store, b"in use")
    [in_use] = [b.name for b in store.iter_blobs()]
    _age(store, in_use, 2 * HOUR)
    orphan = store.put_bytes(b"orphan")
    _age(store, orphan.sha256, 2 * HOUR)
    young = store.put_bytes(b"young orphan, maybe an ingest in flight")
    interrupted = _leftover(store, "w-0123", b"half a file", 2 * HOUR)
    # A blob a crashed sweep set aside although a run uses it: must come back.
    set_aside = store.root / in_use[:2] / in_use[2:4] / in_use
    aside = store.root / "tmp" / f"q-{in_use}.dead"
    os.rename(set_aside, aside)
    old = time.time() - 2 * HOUR
    os.utime(aside, (old, old))
    time.sleep(0.01)

    dry = sweep(engine, store, grace_seconds=HOUR, apply=False, check_rows=True)
    assert (dry.orphans, dry.leftovers, dry.restored, dry.removed) == (1, 1, 0, 0)
    assert dry.missing == 1  # the set-aside blob, until restored
    assert store.exists(orphan.sha256) and interrupted.exists()

    # The set-aside file was renamed just now (a live deleter might hold it): only a sweep
    # with no grace period touches it.
    applied = sweep(engine, store, grace_seconds=0, apply=True, check_rows=True)
    assert applied.restored == 1
    assert not store.exists(orphan.sha256)
    assert not interrupted.exists()
    assert store.exists(in_use)
    assert not store.exists(young.sha256)  # grace 0: nothing is young any more
    assert applied.missing == 0
    assert list(store.iter_leftovers()) == []


def test_sweep_keeps_young_files(engine: Engine, store: FilesystemBlobStore) -> None:
    young = store.put_bytes(b"young orphan")
    _leftover(store, "w-live", b"being written", 0)
    report = sweep(engine, store, grace_seconds=HOUR, apply=True)
    assert (report.orphans, report.leftovers, report.removed) == (0, 0, 0)
    assert store.exists(young.sha256)


def test_the_periodic_sweep_removes_orphans_on_its_own(engine: Engine, tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "swept", grace_seconds=0)
    orphan = store.put_bytes(b"left behind by a killed ingest")
    sweeper = PeriodicSweep(engine, store, interval_seconds=0.05)
    sweeper.start()
    try:
        deadline = time.monotonic() + 60
        while store.exists(orphan.sha256):
            assert time.monotonic() < deadline, "the sweep never ran"
            time.sleep(0.02)
    finally:
        sweeper.stop()
