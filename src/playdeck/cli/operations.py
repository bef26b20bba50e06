"""``playdeck check`` and ``playdeck db create``: an operator's first questions, answered in
one line each."""

from __future__ import annotations

from dataclasses import dataclass

import typer
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from playdeck.auth.policy import check_password_policy
from playdeck.cli.config import err, fail, load_settings, setting_errors
from playdeck.db import make_engine
from playdeck.errors import InvalidInput
from playdeck.migrations import alembic_config
from playdeck.settings import Settings
from playdeck.system.startup import (
    StartupError,
    connect,
    describe_database_error,
    ensure_data_dir,
    ping_redis,
    safe_url,
    schema_revisions,
)
from playdeck.users import repository as users_repository

PROBLEMS_EXIT_CODE = 1


@dataclass(slots=True)
class Report:
    problems: int = 0

    def ok(self, message: str) -> None:
        typer.echo(f"ok     {message}")

    def note(self, message: str) -> None:
        typer.echo(f"note   {message}")

    def error(self, message: str) -> None:
        self.problems += 1
        typer.echo(f"error  {message}")


def _check_database(settings: Settings, report: Report) -> None:
    try:
        engine = connect(settings)
    except StartupError as exc:
        report.error(str(exc))
        return
    url = safe_url(settings.effective_database_url)
    try:
        current, head = schema_revisions(engine)
        if current is None:
            report.ok(f"database {url} answers; empty: `playdeck serve` will create the schema")
        elif current == head:
            report.ok(f"database {url} answers; schema up to date ({head})")
        else:
            try:
                ScriptDirectory.from_config(alembic_config(engine)).get_revision(current)
            except CommandError:
                report.error(
                    f"database {url} is at schema revision {current}, newer than this "
                    f"Playdeck knows ({head}): upgrade Playdeck"
                )
            else:
                report.ok(
                    f"database {url} answers; schema at {current}, {head} is applied by "
                    "`playdeck serve` or `playdeck db upgrade`"
                )
        if settings.admin_password is not None and current is not None:
            with Session(engine) as session:
                if not users_repository.exists_any(session):
                    _check_admin_password(settings, report)
        elif settings.admin_password is not None:
            _check_admin_password(settings, report)
    except SQLAlchemyError as exc:
        report.error(describe_database_error(exc, settings.effective_database_url))
    finally:
        engine.dispose()


def _check_admin_password(settings: Settings, report: Report) -> None:
    assert settings.admin_password is not None
    try:
        check_password_policy(
            settings.admin_password.get_secret_value(),
            min_length=settings.password_min_length,
            username=settings.admin_username or "admin",
            email=settings.admin_email,
        )
    except InvalidInput as exc:
        report.error(f"PLAYDECK_ADMIN_PASSWORD is refused: {exc.detail}")
    else:
        report.ok("PLAYDECK_ADMIN_PASSWORD meets the password policy")


def check() -> None:
    """Check the configuration, the data directory, the database and Redis: one line each,
    exit code 1 if anything is wrong."""
    report = Report()
    settings, errors = setting_errors()
    if settings is None:
        for line in errors:
            report.error(f"configuration: {line}")
        raise typer.Exit(PROBLEMS_EXIT_CODE)
    auth = "on" if settings.require_auth else "off"
    report.ok(f"configuration is valid (authentication {auth})")
    try:
        ensure_data_dir(settings.data_dir)
        report.ok(f"data directory {settings.data_dir.resolve()} is writable")
        data_dir_usable = True
    except StartupError as exc:
        report.error(str(exc))
        data_dir_usable = False
    if data_dir_usable or settings.database_url:  # the default SQLite file lives in the data dir
        _check_database(settings, report)
    if settings.redis_url:
        try:
            ping_redis(settings.redis_url)
            report.ok(f"Redis {safe_url(settings.redis_url)} answers")
        except StartupError as exc:
            report.error(str(exc))
    else:
        report.note("no PLAYDECK_REDIS_URL: rate limits are per process (fine for one process)")
    if not settings.metrics_enabled:
        report.note("/metrics is off (PLAYDECK_METRICS_ENABLED=false)")
    elif settings.require_auth and settings.metrics_token is None:
        report.note("/metrics is off until PLAYDECK_METRICS_TOKEN is set (authentication is on)")
    if report.problems:
        raise typer.Exit(PROBLEMS_EXIT_CODE)


def db_create() -> None:
    """Create the PostgreSQL database named in PLAYDECK_DATABASE_URL (SQLite needs nothing)."""
    settings = load_settings()
    raw_url = settings.effective_database_url
    url = make_url(raw_url)
    if url.get_backend_name() != "postgresql":
        err.print("SQLite creates its database file on first use: nothing to do.")
        return
    name = url.database or ""
    maintenance = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    try:
        with maintenance.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if exists:
                err.print(f'Database "{name}" already exists.')
                return
            quoted = conn.dialect.identifier_preparer.quote_identifier(name)
            conn.execute(text(f"CREATE DATABASE {quoted}"))
    except SQLAlchemyError as exc:
        raise fail(
            describe_database_error(exc, url.render_as_string(hide_password=False))
        ) from None
    finally:
        maintenance.dispose()
    err.print(f'Created database "{name}"; `playdeck serve` applies the schema on start.')
