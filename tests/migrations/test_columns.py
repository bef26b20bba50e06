"""The migration helpers spell the same DDL forever: every revision written with them replays on
deployed databases, so a change to their output would change what an old revision means."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from alembic import op
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext

from playdeck.migrations.columns import (
    create_table,
    drop_table,
    foreign_key,
    id_column,
    one_time_token,
    primary_key,
    reference,
    timestamp,
)


def offline_sql(dialect: str, operations: Callable[[], None]) -> str:
    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect_name=dialect, opts={"as_sql": True, "output_buffer": buffer}
    )
    with Operations.context(context):
        operations()
    return buffer.getvalue()


def create_things() -> None:
    create_table(
        "things",
        reference("project_id", "projects"),
        reference("copied_id"),
        sa.Column("name", sa.String(length=200), nullable=False),
        timestamp("seen_at", nullable=True),
        reference("created_by_id", "users", nullable=True, ondelete="SET NULL", index=True),
        sa.CheckConstraint("name <> ''", name="ck_things_name"),
        unique=["name", ("project_id", "name")],
        indexes={"ix_things_seen": ["seen_at", "id"]},
        sqlite_autoincrement=True,
    )


CREATED_THINGS = {
    "sqlite": (
        "    id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, \n"
        "    project_id INTEGER NOT NULL, \n"
        "    copied_id INTEGER NOT NULL, \n"
        "    name VARCHAR(200) NOT NULL, \n"
        "    seen_at DATETIME, \n"
        "    created_by_id INTEGER, \n"
        "    created_at DATETIME NOT NULL, \n"
    ),
    "postgresql": (
        "    id BIGSERIAL NOT NULL, \n"
        "    project_id BIGINT NOT NULL, \n"
        "    copied_id BIGINT NOT NULL, \n"
        "    name VARCHAR(200) NOT NULL, \n"
        "    seen_at TIMESTAMP WITH TIME ZONE, \n"
        "    created_by_id BIGINT, \n"
        "    created_at TIMESTAMP WITH TIME ZONE NOT NULL, \n"
        "    CONSTRAINT pk_things PRIMARY KEY (id), \n"
    ),
}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_create_table_adds_id_foreign_keys_created_at_and_indexes_in_a_fixed_order(
    dialect: str,
) -> None:
    assert offline_sql(dialect, create_things) == (
        "CREATE TABLE things (\n"
        + CREATED_THINGS[dialect]
        + "    CONSTRAINT ck_things_name CHECK (name <> ''), \n"
        "    CONSTRAINT fk_things_project_id_projects FOREIGN KEY(project_id) "
        "REFERENCES projects (id) ON DELETE CASCADE, \n"
        "    CONSTRAINT fk_things_created_by_id_users FOREIGN KEY(created_by_id) "
        "REFERENCES users (id) ON DELETE SET NULL, \n"
        "    CONSTRAINT uq_things_name UNIQUE (name), \n"
        "    CONSTRAINT uq_things_project_id_name UNIQUE (project_id, name)\n"
        ");\n\n"
        "CREATE INDEX ix_things_created_by_id ON things (created_by_id);\n\n"
        "CREATE INDEX ix_things_seen ON things (seen_at, id);\n\n"
    )


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_create_table_spells_what_revisions_spelled_by_hand_before_it(dialect: str) -> None:
    def by_hand() -> None:
        op.create_table(
            "owned",
            id_column(),
            reference("owner_id"),
            timestamp("created_at"),
            foreign_key("owned", "owner_id", "users", ondelete="CASCADE"),
            primary_key("owned"),
            sa.UniqueConstraint("owner_id", name=op.f("uq_owned_owner_id")),
        )
        op.create_index("ix_owned_owner_id", "owned", ["owner_id"], unique=False)

    def with_create_table() -> None:
        create_table("owned", reference("owner_id", "users", index=True, unique=True))

    assert offline_sql(dialect, with_create_table) == offline_sql(dialect, by_hand)


def test_create_table_without_created_at_has_only_the_id() -> None:
    assert offline_sql("sqlite", lambda: create_table("bare", created_at=False)) == (
        "CREATE TABLE bare (\n"
        "    id INTEGER NOT NULL, \n"
        "    CONSTRAINT pk_bare PRIMARY KEY (id)\n"
        ");\n\n"
    )


def test_unique_columns_follow_the_unique_constraints_named_by_the_table() -> None:
    def create_tokens() -> None:
        create_table(
            "tokens",
            reference("owner_id", "users", unique=True),
            sa.Column("label", sa.String(length=20), nullable=False),
            *one_time_token(),
            unique=["label"],
            created_at=False,
        )

    assert offline_sql("sqlite", create_tokens) == (
        "CREATE TABLE tokens (\n"
        "    id INTEGER NOT NULL, \n"
        "    owner_id INTEGER NOT NULL, \n"
        "    label VARCHAR(20) NOT NULL, \n"
        "    token_hash VARCHAR(64) NOT NULL, \n"
        "    expires_at DATETIME NOT NULL, \n"
        "    used_at DATETIME, \n"
        "    CONSTRAINT pk_tokens PRIMARY KEY (id), \n"
        "    CONSTRAINT fk_tokens_owner_id_users FOREIGN KEY(owner_id) "
        "REFERENCES users (id) ON DELETE CASCADE, \n"
        "    CONSTRAINT uq_tokens_label UNIQUE (label), \n"
        "    CONSTRAINT uq_tokens_owner_id UNIQUE (owner_id), \n"
        "    CONSTRAINT uq_tokens_token_hash UNIQUE (token_hash)\n"
        ");\n\n"
    )


def test_drop_table_drops_the_named_indexes_first() -> None:
    assert offline_sql(
        "postgresql", lambda: drop_table("things", "ix_things_seen", "ix_things_created_by_id")
    ) == (
        "DROP INDEX ix_things_seen;\n\n"
        "DROP INDEX ix_things_created_by_id;\n\n"
        "DROP TABLE things;\n\n"
    )
