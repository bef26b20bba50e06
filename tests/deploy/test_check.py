"""``playdeck check``: one line per finding, exit code 1 when anything is wrong.

Run in this process (Typer's runner, with a clean environment) against real files, a real
SQLite or PostgreSQL database and real sockets; test_startup_failures.py runs ``playdeck`` as
a process.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from playdeck.cli.main import app as cli
from playdeck.db import make_engine
from playdeck.migrations import upgrade

from .processes import clean_env, free_port

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"


def check(workdir: Path, **settings: str) -> tuple[int, list[str]]:
    env = clean_env(**{"PLAYDECK_DATA_DIR": str(workdir / "data"), **settings})
    unset = {name: None for name in os.environ if name not in env}
    cwd = Path.cwd()
    os.chdir(workdir)  # no stray .env
    try:
        result = CliRunner().invoke(cli, ["check"], env={**env, **unset})
    finally:
        os.chdir(cwd)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout.splitlines()


def errors(lines: list[str]) -> list[str]:
    return [line.removeprefix("error  ") for line in lines if line.startswith("error")]


def test_a_sound_setup_passes(workdir: Path) -> None:
    code, lines = check(
        workdir,
        PLAYDECK_REQUIRE_AUTH="true",
        PLAYDECK_SECRET_KEY=SECRET,
        PLAYDECK_ADMIN_PASSWORD="violet tangerine hovercraft",
    )
    assert code == 0, lines
    assert errors(lines) == []
    assert f"ok     data directory {workdir / 'data'} is writable" in lines
    assert any(line.startswith("ok     database sqlite:///") for line in lines)
    assert "ok     PLAYDECK_ADMIN_PASSWORD meets the password policy" in lines
    assert any("PLAYDECK_METRICS_TOKEN" in line for line in lines if line.startswith("note"))


def test_every_invalid_setting_gets_its_own_line(workdir: Path) -> None:
    code, lines = check(
        workdir, PLAYDECK_PORT="99999", PLAYDECK_LOG_LEVEL="loud", PLAYDECK_TRUSTED_PROXIES="x"
    )
    assert code == 1
    assert errors(lines) == [
        "configuration: PLAYDECK_PORT: Input should be less than or equal to 65535",
        "configuration: PLAYDECK_LOG_LEVEL: 'loud' is not one of critical, error, warning, "
        "info, debug, trace",
        "configuration: PLAYDECK_TRUSTED_PROXIES: 'x' is not an IP address or network",
    ]


def test_an_unsafe_secret_is_reported(workdir: Path) -> None:
    code, lines = check(workdir, PLAYDECK_REQUIRE_AUTH="true", PLAYDECK_SECRET_KEY="short")
    assert code == 1
    assert errors(lines) == ["configuration: PLAYDECK_SECRET_KEY must be at least 32 characters"]


def test_an_unwritable_data_dir_is_reported(workdir: Path) -> None:
    blocker = workdir / "a-file"
    blocker.write_text("")
    code, lines = check(workdir, PLAYDECK_DATA_DIR=str(blocker / "data"))
    assert code == 1
    [error] = errors(lines)
    assert error.startswith(f"data directory {blocker / 'data'} is not writable (")


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_an_unreachable_database_is_reported(workdir: Path, scheme: str) -> None:
    port = free_port()
    code, lines = check(workdir, PLAYDECK_DATABASE_URL=f"{scheme}://u:hunter2@127.0.0.1:{port}/pd")
    assert code == 1
    [error] = errors(lines)
    assert error.startswith(f"cannot use the database at 127.0.0.1:{port}: ")
    assert "hunter2" not in "\n".join(lines)


def test_an_unreachable_redis_is_reported(workdir: Path) -> None:
    port = free_port()
    code, lines = check(workdir, PLAYDECK_REDIS_URL=f"redis://:hunter2@127.0.0.1:{port}/0")
    assert code == 1
    [error] = errors(lines)
    assert error.startswith(f"cannot use Redis at redis://:***@127.0.0.1:{port}/0: ")


def test_a_redis_url_of_another_scheme_is_reported(workdir: Path) -> None:
    code, lines = check(workdir, PLAYDECK_REDIS_URL="http://127.0.0.1:6379")
    assert code == 1
    [error] = errors(lines)
    assert error.startswith("PLAYDECK_REDIS_URL is not a Redis URL: ")


def test_a_reachable_redis_is_checked(workdir: Path) -> None:
    url = os.environ.get("PLAYDECK_TEST_REDIS_URL")
    if not url:
        pytest.skip("PLAYDECK_TEST_REDIS_URL is not set")
    code, lines = check(workdir, PLAYDECK_REDIS_URL=url)
    assert code == 0, lines
    assert any(line.startswith("ok     Redis redis://") for line in lines)


def test_a_weak_admin_password_is_reported_while_no_user_exists(workdir: Path) -> None:
    code, lines = check(
        workdir,
        PLAYDECK_REQUIRE_AUTH="true",
        PLAYDECK_SECRET_KEY=SECRET,
        PLAYDECK_ADMIN_PASSWORD="password123",
    )
    assert code == 1
    [error] = errors(lines)
    assert error.startswith("PLAYDECK_ADMIN_PASSWORD is refused: ")
    assert "password123" not in "\n".join(lines)


def test_a_missing_postgres_database_is_reported(
    workdir: Path, missing_postgres_database: str
) -> None:
    code, lines = check(workdir, PLAYDECK_DATABASE_URL=missing_postgres_database)
    assert code == 1
    [error] = errors(lines)
    assert "does not exist on 127.0.0.1:5432: create it with `playdeck db create`" in error


def test_a_schema_behind_this_version_is_noted_and_a_newer_one_refused(workdir: Path) -> None:
    path = workdir / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine, "0003")
    code, lines = check(workdir, PLAYDECK_DATABASE_URL=f"sqlite:///{path}")
    assert code == 0, lines
    assert any("schema at 0003" in line and "playdeck db upgrade" in line for line in lines)

    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    code, lines = check(workdir, PLAYDECK_DATABASE_URL=f"sqlite:///{path}")
    assert code == 1
    [error] = errors(lines)
    assert "is at schema revision 9999, newer than this Playdeck knows" in error


def test_db_create_has_nothing_to_do_for_sqlite(workdir: Path) -> None:
    env = clean_env(PLAYDECK_DATA_DIR=str(workdir / "data"))
    result = CliRunner().invoke(
        cli, ["db", "create"], env={**env, **{n: None for n in os.environ if n not in env}}
    )
    assert result.exit_code == 0
    assert "SQLite creates its database file on first use" in result.stderr
