"""Alembic migrations, applied by ``playdeck serve`` on start and by ``playdeck db upgrade``.

Serialised: several instances starting together on an empty database take turns (a
PostgreSQL advisory lock; on SQLite an exclusive lock on a file beside the database), and
each one after the first finds the schema already at head.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

MIGRATIONS_DIR = Path(__file__).resolve().parent
# pg_advisory_lock key: "playdeck" in ASCII, so other applications' keys are unlikely to clash.
ADVISORY_LOCK_KEY = 0x706C61796465636B


def alembic_config(engine: Engine, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    config.attributes["connection"] = connection
    return config


@contextmanager
def _file_lock(database: str | None) -> Iterator[None]:
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # waits for the instance migrating now
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def migration_lock(engine: Engine) -> Iterator[Connection]:
    """A connection that holds the migration lock until the block ends."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            # A long migration by another instance is waited for, not timed out.
            conn.exec_driver_sql("SET statement_timeout = 0")
            conn.exec_driver_sql("SET lock_timeout = 0")
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            conn.commit()
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                conn.commit()
        return
    with _file_lock(engine.url.database), engine.connect() as conn:
        yield conn


def upgrade(engine: Engine, revision: str = "head") -> None:
    with migration_lock(engine) as connection:
        command.upgrade(alembic_config(engine, connection), revision)
