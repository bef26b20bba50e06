"""Every way ``playdeck serve`` cannot start ends in one line saying why, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from playdeck.db import make_engine

from .processes import clean_env, free_port, run_playdeck

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"


def assert_one_line_failure(output: str, expected: str) -> None:
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("playdeck:")]
    assert len(errors) == 1, output
    assert expected in errors[0]
    assert output.strip().splitlines()[-1] == errors[0]  # the last word, not buried in logs


def test_version(workdir: Path) -> None:
    result = run_playdeck("--version", env=clean_env(), cwd=workdir)
    assert result.returncode == 0
    assert result.stdout.strip() == f"playdeck {__import__('playdeck').__version__}"


@pytest.mark.parametrize(
    ("settings", "args", "expected"),
    [
        (
            {"PLAYDECK_DATABASE_URL": "mysql://root@127.0.0.1/playdeck"},
            [],
            "PLAYDECK_DATABASE_URL: unsupported database 'mysql'",
        ),
        (
            {"PLAYDECK_DATABASE_URL": "not a url"},
            [],
            "PLAYDECK_DATABASE_URL: is not a database URL",
        ),
        (
            {
                "PLAYDECK_REQUIRE_AUTH": "true",
                "PLAYDECK_SECRET_KEY": SECRET,
                "PLAYDECK_ADMIN_PASSWORD": "weak",
            },
            [],
            "PLAYDECK_ADMIN_* rejected: Password must be at least 15 characters",
        ),
        (
            {"PLAYDECK_REQUIRE_AUTH": "true", "PLAYDECK_SECRET_KEY": SECRET},
            ["--workers", "2"],
            "--workers 2 needs PLAYDECK_REDIS_URL",
        ),
        (
            {"PLAYDECK_DATABASE_URL": "postgresql://playdeck@127.0.0.1:{port}/playdeck"},
            [],
            "cannot use the database at 127.0.0.1:{port}",
        ),
        (
            {"PLAYDECK_REDIS_URL": "redis://127.0.0.1:{port}/0"},
            [],
            "cannot use Redis at redis://127.0.0.1:{port}/0",
        ),
    ],
    ids=[
        "bad-scheme",
        "not-a-url",
        "weak-admin-password",
        "workers-without-redis",
        "database-unreachable",
        "redis-unreachable",
    ],
)
def test_serve_fails_in_one_line(
    workdir: Path, settings: dict[str, str], args: list[str], expected: str
) -> None:
    port = str(free_port())
    env = clean_env(
        PLAYDECK_DATA_DIR=str(workdir / "data"),
        **{k: v.replace("{port}", port) for k, v in settings.items()},
    )
    result = run_playdeck("serve", "--port", str(free_port()), *args, env=env, cwd=workdir)
    assert result.returncode != 0
    assert_one_line_failure(result.stdout + result.stderr, expected.replace("{port}", port))


def test_unwritable_data_dir_fails_in_one_line(workdir: Path) -> None:
    blocker = workdir / "a-file"
    blocker.write_text("not a directory")
    env = clean_env(PLAYDECK_DATA_DIR=str(blocker / "data"))
    result = run_playdeck("serve", env=env, cwd=workdir)
    assert result.returncode == 1
    assert_one_line_failure(
        result.stdout + result.stderr, f"data directory {blocker / 'data'} is not writable"
    )


def test_missing_postgres_database_says_how_to_create_it(
    workdir: Path, missing_postgres_database: str
) -> None:
    env = clean_env(
        PLAYDECK_DATA_DIR=str(workdir / "data"), PLAYDECK_DATABASE_URL=missing_postgres_database
    )
    name = missing_postgres_database.rsplit("/", 1)[1]
    result = run_playdeck("serve", "--port", str(free_port()), env=env, cwd=workdir)
    assert result.returncode == 1
    assert_one_line_failure(
        result.stdout + result.stderr,
        f'database "{name}" does not exist on 127.0.0.1:5432: create it with `playdeck db create`',
    )

    created = run_playdeck("db", "create", env=env, cwd=workdir)
    assert created.returncode == 0, created.stderr
    assert f'Created database "{name}"' in created.stderr
    again = run_playdeck("db", "create", env=env, cwd=workdir)
    assert again.returncode == 0 and "already exists" in again.stderr
    # The postgres:// spelling (libpq's, Heroku's) is accepted as it is.
    checked = run_playdeck("check", env=env, cwd=workdir)
    assert checked.returncode == 0, checked.stdout
    assert "answers; empty" in checked.stdout


@pytest.mark.parametrize(
    "command",
    [["users", "list"], ["members", "list", "web"], ["keys", "list"], ["audit"]],
    ids=" ".join,
)
def test_commands_on_the_database_fail_in_one_line(
    workdir: Path, missing_postgres_database: str, command: list[str]
) -> None:
    """The recovery commands (users, members, keys, audit) talk to the database directly: an
    unreachable or missing database is one line saying why, as for ``serve``."""
    env = clean_env(
        PLAYDECK_DATA_DIR=str(workdir / "data"), PLAYDECK_DATABASE_URL=missing_postgres_database
    )
    result = run_playdeck(*command, env=env, cwd=workdir)
    assert result.returncode == 1
    name = missing_postgres_database.rsplit("/", 1)[1]
    assert_one_line_failure(result.stdout + result.stderr, f'database "{name}" does not exist')


@pytest.mark.parametrize("command", [["users", "list"], ["members", "list", "web"]], ids=" ".join)
def test_commands_on_an_unwritable_data_dir_fail_in_one_line(
    workdir: Path, command: list[str]
) -> None:
    blocker = workdir / "a-file"
    blocker.write_text("not a directory")
    result = run_playdeck(
        *command, env=clean_env(PLAYDECK_DATA_DIR=str(blocker / "data")), cwd=workdir
    )
    assert result.returncode == 1
    assert_one_line_failure(
        result.stdout + result.stderr, f"data directory {blocker / 'data'} is not writable"
    )


def test_a_role_without_temporary_tables_is_told_what_to_grant(
    workdir: Path, database_without_temporary: tuple[str, str]
) -> None:
    """An ingest stages a report's new tests in a temporary table: a role that may not create
    one would refuse every new suite, so ``serve`` and ``check`` stop and name the grant."""
    url, admin_url = database_without_temporary
    name = make_url(url).database
    env = clean_env(PLAYDECK_DATA_DIR=str(workdir / "data"), PLAYDECK_DATABASE_URL=url)
    grant = f'GRANT TEMPORARY ON DATABASE "{name}" TO "{name}"'
    served = run_playdeck("serve", "--port", str(free_port()), env=env, cwd=workdir)
    assert served.returncode == 1
    assert_one_line_failure(served.stdout + served.stderr, grant)
    checked = run_playdeck("check", env=env, cwd=workdir)
    assert checked.returncode != 0
    assert grant in checked.stdout + checked.stderr

    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(grant))
    admin.dispose()
    checked = run_playdeck("check", env=env, cwd=workdir)
    assert checked.returncode == 0, checked.stdout + checked.stderr
