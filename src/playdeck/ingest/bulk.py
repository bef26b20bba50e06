"""Bulk row writes for ingest: ids reserved up front, then one executemany (SQLite) or COPY
(PostgreSQL) per table, with values already in the driver's form.

Why not ``insert().returning(...)``: returning ids in parameter order makes SQLAlchemy send one
INSERT per row on SQLite and re-parse a huge multi-row statement per batch on PostgreSQL; with
ids reserved first, child rows can reference their parents without a round trip per row. Values
skip SQLAlchemy's per-row type processing, so ``adapt_datetime``/``adapt_json`` must produce
exactly what the column types would have stored (tests read the rows back through the ORM).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from playdeck.kit.text import check_storable, dumps_storable

# SQLAlchemy's SQLite DATETIME storage format (microseconds always present).
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"


class BulkWriter:
    def __init__(self, session: Session) -> None:
        self._connection = session.connection()
        self.dialect = self._connection.dialect.name
        if self.dialect not in ("sqlite", "postgresql"):  # pragma: no cover
            raise RuntimeError(f"bulk ingest does not support {self.dialect}")

    def adapt_datetime(self, value: datetime | None) -> Any:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.strftime(_SQLITE_DATETIME) if self.dialect == "sqlite" else value

    @staticmethod
    def adapt_json(value: Any) -> str:
        return dumps_storable(value)

    def reserve_ids(self, table: Table, count: int) -> list[int]:
        """``count`` fresh primary keys for ``table``.

        SQLite: the caller's transaction already holds the write lock (the run row was inserted
        first), so nobody else can take ids past ``max(id)`` before it commits. PostgreSQL: one
        round trip draws them from the table's sequence.
        """
        if count == 0:
            return []
        if self.dialect == "sqlite":
            top = self._connection.execute(select(func.coalesce(func.max(table.c.id), 0)))
            start = int(top.scalar_one()) + 1
            return list(range(start, start + count))
        rows = self._connection.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count)"
            ),
            {"table": table.name, "count": count},
        )
        return [int(value) for value in rows.scalars()]

    def insert(self, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        if self.dialect == "sqlite":
            marks = ", ".join("?" * len(columns))
            self._connection.exec_driver_sql(
                f"INSERT INTO {table.name} ({names}) VALUES ({marks})",  # noqa: S608 - our names
                list(rows),
            )
            return
        check_storable(rows)  # COPY bypasses the engine's check (db.py)
        cursor = self._connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
