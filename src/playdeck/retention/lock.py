"""One retention job at a time across every Playdeck process sharing a database.

PostgreSQL: a session-level advisory lock, held on a connection of its own for the job's
duration (it goes away with the connection, so a crashed process never leaves it behind).
SQLite: every process sharing the database shares its data directory, so an exclusive
``flock`` on ``<data_dir>/retention.lock`` (released by the kernel when the process dies).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text

# pg_try_advisory_lock(bigint) key: "pdretain" in ASCII. It must differ from the migrations'
# key ("playdeck"): a backup holding this lock runs a restore's migrations, which would
# otherwise wait on the lock its own process holds.
ADVISORY_LOCK_KEY = int.from_bytes(b"pdretain", "big")
LOCK_FILE = "retention.lock"


@contextlib.contextmanager
def job_lock(engine: Engine, data_dir: Path) -> Iterator[bool]:
    """Yields ``True`` when this process holds the lock, ``False`` when another one does."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            held = bool(
                conn.execute(
                    text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}
                ).scalar()
            )
            conn.commit()
            try:
                yield held
            finally:
                if held:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
                    conn.commit()
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
