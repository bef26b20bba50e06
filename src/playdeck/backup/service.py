"""``create_backup`` and ``restore_backup``.

The order is what makes a backup taken while the server runs consistent:

1. **The database first**, as one consistent snapshot: SQLite's online backup API (readers and
   the writer carry on meanwhile, WAL), or ``pg_dump`` of a snapshot exported from a
   ``REPEATABLE READ`` transaction. A file is written before the row that references it commits,
   so every file the snapshot references exists when the snapshot is taken.
2. **The files second**: exactly those the snapshot references, read from that same snapshot,
   each checked against its SHA-256 as it is copied. Files written after the snapshot are not
   needed; a file deleted after it (a run deleted meanwhile) is listed in the manifest's
   ``missing_files``. The retention job is held off while the backup runs (its lock).

The backup is written to a temporary sibling directory and renamed into place at the end, so a
failed backup leaves nothing that looks like one. Restore copies the files first and the
database last, then applies migrations (a backup of an older version is brought up to date).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, make_url, text

from playdeck import __version__
from playdeck.backup import postgres
from playdeck.backup.files import blobs_in, copy_blobs
from playdeck.backup.layout import (
    FILES,
    PG_DUMP_FILE,
    SQLITE_FILE,
    BackupError,
    Manifest,
)
from playdeck.db import make_engine
from playdeck.kit.clock import utcnow
from playdeck.migrations import upgrade
from playdeck.retention.lock import job_lock
from playdeck.settings import Settings

LOCK_WAIT_SECONDS = 60
REFERENCED = "SELECT sha256 FROM attachments UNION SELECT sha256 FROM report_files"


@dataclass(frozen=True, slots=True)
class Restored:
    database: str
    files: int
    bytes: int
    missing_files: list[str]


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _check_empty_destination(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already exists and is not an empty directory")


def _backup_sqlite(url: str, work: Path) -> tuple[set[str], str | None]:
    source = _sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    target = work / SQLITE_FILE
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        # One step (all pages): a single read transaction, so the copy is one snapshot.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        checked = dst.execute("PRAGMA quick_check").fetchone()
        if checked is None or checked[0] != "ok":
            raise BackupError(f"the copied database fails its integrity check: {checked}")
        hashes = {row[0] for row in dst.execute(REFERENCED)}
        found = dst.execute("SELECT version_num FROM alembic_version").fetchone()
    return hashes, (found[0] if found else None)


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _backup_postgres(engine: Engine, url: str, work: Path) -> tuple[set[str], str | None]:
    repeatable = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with repeatable as conn, conn.begin():
        snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
        # pg_dump reads the very snapshot this transaction sees; so does the file list.
        postgres.dump(url, work / PG_DUMP_FILE, snapshot=snapshot)
        hashes = set(conn.execute(text(REFERENCED)).scalars())
        revision = _revision(conn)
    return hashes, revision


@contextlib.contextmanager
def _retention_paused(engine: Engine, data_dir: Path) -> Iterator[None]:
    """Hold the retention job's lock for the backup, so that no prune deletes files the copied
    database references. A prune already under way gets ``LOCK_WAIT_SECONDS`` to finish; after
    that the backup goes ahead (anything it then misses is listed as missing)."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        with job_lock(engine, data_dir) as held:
            if held or time.monotonic() >= deadline:
                yield
                return
        time.sleep(1)


def create_backup(settings: Settings, dest: Path) -> Manifest:
    """Back up the database, then the files it references, into the new directory ``dest``."""
    dest = dest.resolve()
    _check_empty_destination(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    url = settings.effective_database_url
    engine = make_engine(url)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        with _retention_paused(engine, settings.data_dir):
            if engine.dialect.name == "postgresql":
                kind = "postgresql"
                hashes, revision = _backup_postgres(engine, url, work)
            elif engine.dialect.name == "sqlite":
                kind = "sqlite"
                hashes, revision = _backup_sqlite(url, work)
            else:
                raise BackupError(f"cannot back up a {engine.dialect.name} database")
            copied = copy_blobs(hashes, source=settings.files_dir, target=work / FILES)
        manifest = Manifest(
            playdeck_version=__version__,
            created_at=utcnow(),
            database=kind,
            schema_revision=revision,
            files=copied.files,
            bytes=copied.bytes,
            missing_files=copied.missing,
        )
        manifest.write(work)
        if dest.exists():
            dest.rmdir()  # empty, checked above
        os.replace(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        engine.dispose()
    return manifest


def _postgres_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        count = conn.execute(
            text(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = current_schema()"
            )
        ).scalar_one()
    return int(count) == 0


def restore_backup(settings: Settings, source: Path, *, force: bool = False) -> Restored:
    """Restore ``source`` into the configured database and data directory.

    Refuses a database that already holds data unless ``force`` (which replaces it).
    """
    source = source.resolve()
    manifest = Manifest.read(source)
    url = settings.effective_database_url
    engine = make_engine(url)
    try:
        kind = engine.dialect.name
        if kind != manifest.database:
            raise BackupError(
                f"the backup holds a {manifest.database} database; "
                f"PLAYDECK_DATABASE_URL names a {kind} one"
            )
        if kind == "sqlite":
            target = _sqlite_path(url)
            if target.exists() and not force:
                raise BackupError(
                    f"{target} already exists: restore into a fresh data directory, "
                    "or pass --force to replace it"
                )
        elif not force and not _postgres_is_empty(engine):
            raise BackupError(
                "the database already holds tables: restore into an empty database, "
                "or pass --force to replace them"
            )
        # Files first: once the database appears, everything it references is in place.
        copied = copy_blobs(
            blobs_in(source / FILES), source=source / FILES, target=settings.files_dir
        )
        if kind == "sqlite":
            _restore_sqlite(source / SQLITE_FILE, target)
        else:
            engine.dispose()
            postgres.restore(url, source / PG_DUMP_FILE, clean=force)
        upgrade(engine)
    finally:
        engine.dispose()
    return Restored(
        database=kind, files=copied.files, bytes=copied.bytes, missing_files=copied.missing
    )


def _restore_sqlite(backup: Path, target: Path) -> None:
    if not backup.is_file():
        raise BackupError(f"the backup has no {SQLITE_FILE}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    try:
        shutil.copyfile(backup, partial)
        for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            stale.unlink(missing_ok=True)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
