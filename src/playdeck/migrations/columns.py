"""The shapes every migration writes: one place for the id type, references, timestamps, the
constraint names (``op.f`` keeps a name exactly as given, matching the models' naming convention
in ``playdeck.models.base``) and the table every revision creates the same way.

Migrations import from here and nowhere else in ``playdeck``: these helpers only spell DDL, so a
migration written with them means the same thing forever. A helper's output for given arguments
must therefore never change (``tests/migrations/test_columns.py`` pins it): a new shape is a new
helper or a new keyword whose default keeps the old output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import sqlalchemy as sa
from alembic import op

# A 64-bit id on PostgreSQL; on SQLite an INTEGER PRIMARY KEY (the rowid alias).
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def id_column() -> sa.Column[int]:
    return sa.Column("id", BIG_ID, autoincrement=True, nullable=False)


@dataclass(frozen=True)
class Reference:
    """A column holding the id of a row of ``target``, with its foreign key, and its index
    ``ix_<table>_<name>`` or unique constraint if asked (as ``models.base.parent_id``):
    ``create_table`` declares them together."""

    name: str
    target: str
    nullable: bool
    ondelete: str
    index: bool
    unique: bool

    def column(self) -> sa.Column[int]:
        return sa.Column(self.name, BIG_ID, nullable=self.nullable)


@overload
def reference(name: str, *, nullable: bool = False) -> sa.Column[int]: ...


@overload
def reference(
    name: str,
    target: str,
    *,
    nullable: bool = False,
    ondelete: str = "CASCADE",
    index: bool = False,
    unique: bool = False,
) -> Reference: ...


def reference(
    name: str,
    target: str | None = None,
    *,
    nullable: bool = False,
    ondelete: str = "CASCADE",
    index: bool = False,
    unique: bool = False,
) -> sa.Column[int] | Reference:
    """``name`` references ``target.id`` (deleted with it unless ``ondelete`` says otherwise),
    declared by ``create_table``. Without a target, the column alone (as before ``create_table``
    existed): an id copied in for reading, or one whose ``foreign_key`` is spelled apart."""
    if target is None:
        return sa.Column(name, BIG_ID, nullable=nullable)
    return Reference(name, target, nullable, ondelete, index, unique)


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


@dataclass(frozen=True)
class SecretHash:
    """The SHA-256 (hex) of a secret that is never stored, unique because every use looks the
    secret up by it (``models.base.SecretHash``): ``create_table`` declares both."""

    name: str

    def column(self) -> sa.Column[str]:
        return sa.Column(self.name, sa.String(length=64), nullable=False)


def secret_hash(name: str) -> SecretHash:
    return SecretHash(name)


def one_time_token() -> tuple[SecretHash, sa.Column[object], sa.Column[object]]:
    """A secret that works once, before it expires (``models.base.OneTimeTokenMixin``)."""
    return secret_hash("token_hash"), timestamp("expires_at"), timestamp("used_at", nullable=True)


def primary_key(table: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}"))


def foreign_key(
    table: str, column: str, target: str, *, ondelete: str | None = None
) -> sa.ForeignKeyConstraint:
    """``table.column`` references ``target.id``."""
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _unique(table: str, columns: str | tuple[str, ...]) -> sa.UniqueConstraint:
    names = (columns,) if isinstance(columns, str) else columns
    return sa.UniqueConstraint(*names, name=op.f(f"uq_{table}_{'_'.join(names)}"))


def create_table(
    table: str,
    *items: sa.Column[Any] | Reference | SecretHash | sa.CheckConstraint,
    unique: Iterable[str | tuple[str, ...]] = (),
    indexes: Mapping[str, Sequence[str]] | None = None,
    created_at: bool = True,
    **dialect_kw: Any,
) -> None:
    """``op.create_table`` with what every table has: ``id`` first and its primary key, the
    foreign key of each ``reference`` with a target, and ``created_at`` last (unless
    ``created_at=False``); a unique constraint on each of ``unique`` (a column, or a tuple of
    them), each ``secret_hash`` and each ``reference(..., unique=True)``; then the index of each
    ``reference(..., index=True)`` in column order, and the table's other ``indexes`` (name:
    columns) in the given order.

    The constraints are made in a fixed order, which is the order SQLite keeps in the table's
    stored SQL: the checks given, the foreign keys in column order, the unique constraints
    (``unique``'s, then the unique columns' in column order).
    """
    columns = [
        item.column() if isinstance(item, Reference | SecretHash) else item for item in items
    ]
    references = [item for item in items if isinstance(item, Reference)]
    unique_columns = [
        item.name
        for item in items
        if isinstance(item, SecretHash) or (isinstance(item, Reference) and item.unique)
    ]
    op.create_table(
        table,
        id_column(),
        *columns,
        *([timestamp("created_at")] if created_at else []),
        *(foreign_key(table, ref.name, ref.target, ondelete=ref.ondelete) for ref in references),
        primary_key(table),
        *(_unique(table, key) for key in [*unique, *unique_columns]),
        **dialect_kw,
    )
    named = {f"ix_{table}_{ref.name}": [ref.name] for ref in references if ref.index}
    for name, indexed in (named | dict(indexes or {})).items():
        op.create_index(name, table, list(indexed), unique=False)


def drop_table(table: str, *indexes: str) -> None:
    """Drop the named indexes of ``table`` (in the given order), then the table."""
    for name in indexes:
        op.drop_index(name, table_name=table)
    op.drop_table(table)
