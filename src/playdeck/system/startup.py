"""What ``playdeck serve`` prepares and ``playdeck check`` verifies before anything is served.

Every failure is a ``StartupError`` whose message is one line an operator can act on (what is
wrong and how to fix it), never a traceback.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import redis
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from playdeck.auth.bootstrap import ensure_initial_admin
from playdeck.db import make_engine, make_sessionmaker, timeouts_of
from playdeck.migrations import alembic_config, upgrade
from playdeck.settings import Settings, UnsafeSettingsError

logger = logging.getLogger("playdeck.startup")

REDIS_TIMEOUT_SECONDS = 3
_MISSING_DATABASE = re.compile(r'database "(?P<name>[^"]+)" does not exist')


class StartupError(Exception):
    """Playdeck cannot start (or would start broken); the message is one line."""


def safe_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, for messages and logs."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable URL>"


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__


def describe_database_error(exc: BaseException, url: str) -> str:
    parsed = make_url(url)
    message = _first_line(exc)
    if parsed.get_backend_name() == "sqlite":
        return f"cannot open the SQLite database {parsed.database}: {message}"
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    missing = _MISSING_DATABASE.search(str(getattr(exc, "orig", None) or exc))
    if missing:
        name = missing.group("name")
        return (
            f'database "{name}" does not exist on {where}: create it with '
            f"`playdeck db create` (or `createdb -h {parsed.host or 'localhost'} "
            f"-p {parsed.port or 5432} -U {parsed.username or 'postgres'} {name}`)"
        )
    return f"cannot use the database at {where}: {message.removeprefix('connection failed: ')}"


def ensure_data_dir(path: Path) -> None:
    """Create ``path`` if needed and prove a file can be written there."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".playdeck-write-test-"):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StartupError(
            f"data directory {path.resolve()} is not writable ({reason}); "
            "set PLAYDECK_DATA_DIR to a directory this user can write"
        ) from None


def connect(settings: Settings) -> Engine:
    """An engine whose database answers ``SELECT 1``."""
    url = settings.effective_database_url
    engine = make_engine(url, timeouts_of(settings))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            may_stage = engine.dialect.name != "postgresql" or conn.scalar(
                text("SELECT has_database_privilege(current_database(), 'TEMPORARY')")
            )
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StartupError(describe_database_error(exc, url)) from None
    if not may_stage:
        engine.dispose()
        parsed = make_url(url)
        raise StartupError(
            f'the role "{parsed.username}" may not create temporary tables in database '
            f'"{parsed.database}", where an ingest stages new tests: '
            f'GRANT TEMPORARY ON DATABASE "{parsed.database}" TO "{parsed.username}"'
        )
    return engine


def schema_revisions(engine: Engine) -> tuple[str | None, str | None]:
    """The database's migration revision and the newest this Playdeck knows."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head


def migrate(engine: Engine) -> None:
    """Apply pending migrations and log what happened."""
    try:
        before, head = schema_revisions(engine)
        if before == head:
            logger.info("database schema is up to date (revision %s)", head)
            return
        upgrade(engine)
    except SQLAlchemyError as exc:
        raise StartupError(describe_database_error(exc, str(engine.url))) from None
    logger.info(
        "database migrated from revision %s to %s",
        before or "(empty database)",
        head,
        extra={"from_revision": before, "to_revision": head},
    )


def create_env_admin(factory: sessionmaker[Any], settings: Settings) -> None:
    try:
        ensure_initial_admin(factory, settings)
    except UnsafeSettingsError as exc:
        raise StartupError(str(exc)) from None


def ping_redis(url: str) -> None:
    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
    except ValueError as exc:  # not a redis://, rediss:// or unix:// URL
        raise StartupError(f"PLAYDECK_REDIS_URL is not a Redis URL: {exc}") from None
    try:
        client.ping()
    except redis.RedisError as exc:
        raise StartupError(f"cannot use Redis at {safe_url(url)}: {_first_line(exc)}") from None
    finally:
        client.close()


def upgrade_database(settings: Settings) -> None:
    """``playdeck db upgrade``: the data directory, then the schema brought up to date."""
    ensure_data_dir(settings.data_dir)
    engine = connect(settings)
    try:
        migrate(engine)
    finally:
        engine.dispose()


def prepare(settings: Settings) -> None:
    """Everything ``serve`` does once, before any worker starts: the data directory, the
    database and its migrations, Redis when configured, the first administrator."""
    ensure_data_dir(settings.data_dir)
    if settings.redis_url:
        ping_redis(settings.redis_url)
    engine = connect(settings)
    try:
        migrate(engine)
        create_env_admin(make_sessionmaker(engine), settings)
    finally:
        engine.dispose()


SECRET_SETTINGS = frozenset(
    {"secret_key", "previous_secret_keys", "admin_password", "metrics_token"}
)
URL_SETTINGS = frozenset({"database_url", "redis_url"})


def _redacted(value: object) -> str | None:
    """A secret shown only as set or not; a list of them (retired keys) by how many."""
    if isinstance(value, list):
        return f"({len(value)} set)" if value else None
    return "(set)" if value is not None else None


def effective_configuration(settings: Settings) -> dict[str, Any]:
    """Every setting as it is in effect, secrets shown only as set or not."""
    values: dict[str, Any] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if name in SECRET_SETTINGS:
            value = _redacted(value)
        elif name in URL_SETTINGS and value is not None:
            value = safe_url(value)
        elif isinstance(value, Path):
            value = str(value.resolve())
        values[name] = value
    values["database_url"] = safe_url(settings.effective_database_url)
    return values


def log_configuration(settings: Settings, *, workers: int) -> None:
    config = effective_configuration(settings)
    summary = " ".join(f"{key}={value}" for key, value in config.items())
    logger.info(
        "starting Playdeck on %s:%s with %d worker%s (pid %d): %s",
        settings.host,
        settings.port,
        workers,
        "" if workers == 1 else "s",
        os.getpid(),
        summary,
        extra={"config": config, "workers": workers},
    )
