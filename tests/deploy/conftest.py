"""Fixtures for tests that run ``playdeck`` as a real process."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from playdeck.db import make_engine


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty working directory: no stray ``.env`` is read."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def postgres_server() -> str:
    """The PostgreSQL server URL of ``PLAYDECK_TEST_DATABASE_URL`` (skips without one)."""
    url = os.environ.get("PLAYDECK_TEST_DATABASE_URL")
    if not url:
        pytest.skip("PLAYDECK_TEST_DATABASE_URL is not set: no PostgreSQL server to use")
    return url


@pytest.fixture
def missing_postgres_database(postgres_server: str) -> Iterator[str]:
    """A ``postgres://`` URL naming a database that does not exist yet (dropped afterwards)."""
    server = make_url(postgres_server)
    name = f"playdeck_ops_{secrets.token_hex(4)}"
    url = server.set(drivername="postgres", database=name).render_as_string(hide_password=False)
    yield url
    admin = make_engine(postgres_server)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_without_temporary(postgres_server: str) -> Iterator[tuple[str, str]]:
    """A database owned by a throwaway role that may not create temporary tables: its URL and
    an administrator's URL for the same database (both dropped afterwards)."""
    server = make_url(postgres_server)
    name = f"playdeck_notemp_{secrets.token_hex(4)}"
    password = secrets.token_hex(16)
    admin = make_engine(postgres_server)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"""CREATE ROLE "{name}" LOGIN PASSWORD '{password}'"""))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER "{name}"'))
        conn.execute(text(f'REVOKE TEMPORARY ON DATABASE "{name}" FROM PUBLIC, "{name}"'))
    role = server.set(username=name, password=password, database=name)
    try:
        yield (
            role.render_as_string(hide_password=False),
            server.set(database=name).render_as_string(hide_password=False),
        )
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()
