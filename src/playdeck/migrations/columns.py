"""The column shapes every migration writes: one place for the id type, references, timestamps
and the constraint names (``op.f`` keeps a name exactly as given, matching the models' naming
convention in ``playdeck.models.base``).

Migrations import from here and nowhere else in ``playdeck``: these helpers only spell columns,
so a migration written with them means the same thing forever.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# A 64-bit id on PostgreSQL; on SQLite an INTEGER PRIMARY KEY (the rowid alias).
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def id_column() -> sa.Column[int]:
    return sa.Column("id", BIG_ID, autoincrement=True, nullable=False)


def reference(name: str, *, nullable: bool = False) -> sa.Column[int]:
    """A column holding another table's id."""
    return sa.Column(name, BIG_ID, nullable=nullable)


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


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
