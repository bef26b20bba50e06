"""Migration 0009 on both databases: a password-less (single-sign-on) user can be stored, and
upgrading an existing database keeps every user, session, membership and key (on SQLite the
column change must not rebuild ``users``, whose DROP would cascade to them)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.command import downgrade
from sqlalchemy import Engine, inspect, text

from playdeck.db import make_engine
from playdeck.migrations import alembic_config, upgrade
from tests.fixtures.database import (
    SERVER_VARIABLE,
    create_postgres_database,
    drop_postgres_database,
)

NOW = "2026-12-01 10:00:00+00:00"


@pytest.fixture
def fresh_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the suite's kind (PostgreSQL when the suite runs on it)."""
    server = os.environ.get(SERVER_VARIABLE)
    url = create_postgres_database(server) if server else f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)
    yield engine
    engine.dispose()
    if server:
        drop_postgres_database(server, url)


def _seed_before_0009(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, role, is_active, password_hash, "
                "failed_login_count, password_changed_at, created_at, updated_at) VALUES "
                "(1, 'alice', 'user', true, '$argon2id$v=19$m=8,t=1,p=1$x$y', 0, :t, :t, :t)"
            ),
            {"t": NOW},
        )
        conn.execute(
            text("INSERT INTO projects (id, name, slug, created_at) VALUES (1, 'web', 'web', :t)"),
            {"t": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO project_members (project_id, user_id, role, created_at) "
                "VALUES (1, 1, 'owner', :t)"
            ),
            {"t": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO user_sessions (public_id, user_id, token_hash, last_seen_at, "
                "expires_at, created_at) VALUES ('p1', 1, 'h1', :t, :t, :t)"
            ),
            {"t": NOW},
        )


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_upgrading_keeps_every_row_and_stores_password_less_users(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, "0006")
    _seed_before_0009(fresh_engine)
    upgrade(fresh_engine, "0009")

    assert [_count(fresh_engine, t) for t in ("users", "project_members", "user_sessions")] == [
        1,
        1,
        1,
    ]
    with fresh_engine.begin() as conn:
        kept = conn.execute(text("SELECT password_hash, role_source FROM users")).one()
        assert kept[0].startswith("$argon2id$") and kept[1] == "manual"
        assert conn.execute(text("SELECT source FROM project_members")).scalar_one() == "manual"
        conn.execute(
            text(
                "INSERT INTO users (id, username, role, is_active, password_hash, "
                "failed_login_count, password_changed_at, created_at, updated_at) VALUES "
                "(2, 'ada', 'user', true, NULL, 0, :t, :t, :t)"
            ),
            {"t": NOW},
        )
    columns = {c["name"]: c for c in inspect(fresh_engine).get_columns("users")}
    assert columns["password_hash"]["nullable"] is True


def test_the_source_columns_allow_exactly_manual_and_provider(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, "0009")
    for table, column in (("users", "role_source"), ("project_members", "source")):
        checks = {
            c["name"]: c["sqltext"] for c in inspect(fresh_engine).get_check_constraints(table)
        }
        text_ = checks[f"ck_{table}_{column}"]
        assert "'manual'" in text_ and "'provider'" in text_


def test_downgrading_0009_gives_password_less_users_an_unusable_password(
    fresh_engine: Engine,
) -> None:
    upgrade(fresh_engine, "0009")
    with fresh_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, role, is_active, password_hash, "
                "failed_login_count, password_changed_at, created_at, updated_at) VALUES "
                "(2, 'ada', 'user', true, NULL, 0, :t, :t, :t)"
            ),
            {"t": NOW},
        )
    downgrade(alembic_config(fresh_engine), "0006")
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT password_hash FROM users")).scalar_one() == "!"
