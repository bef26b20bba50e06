"""Bulk row writes for ingest: ids reserved up front, then one executemany (SQLite) or COPY
(PostgreSQL) per table, with values already in the driver's form.

Why not ``insert().returning(...)``: returning ids in parameter order makes SQLAlchemy send one
INSERT per row on SQLite and re-parse a huge multi-row statement per batch on PostgreSQL; with
ids reserved first, child rows can reference their parents without a round trip per row. Values
skip SQLAlchemy's per-row type processing, so ``adapt_datetime``/``adapt_json`` must produce
exactly what the column types would have stored (tests read the rows back through the ORM).

Planner statistics (PostgreSQL): a table that has never been analysed, or that one ingest has
more than doubled, is planned blind until autovacuum's next pass (up to a minute after the
commit, and never inside the transaction that filled it). At 100,000 new tests that cost minutes
per report. ``analyze_if_grown`` runs ``ANALYZE`` on such a table inside the ingest transaction
(ANALYZE samples the transaction's own uncommitted rows, and its lock blocks neither reads nor
writes, only another ANALYZE or VACUUM of that table). The rule fires when a table doubles, so a
few times in a database's life, and costs one ``pg_class`` read per bulk insert otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Table, Text, any_, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from playdeck.db import TEXT_CHECKED
from playdeck.kit.text import dumps_storable
from playdeck.models import Test

# SQLAlchemy's SQLite DATETIME storage format (microseconds always present).
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
# From this year on, ``isoformat`` writes exactly that (and costs a fifth of ``strftime``);
# ``strftime`` pads years before 1000 differently on some platforms.
_ISOFORMAT_FROM_YEAR = 1000
# Keys per SQLite lookup: one bind parameter each, well under SQLite's 32,766 limit.
SQLITE_LOOKUP_BATCH = 2000
# Rows per executemany (SQLite) or per storability check (PostgreSQL's COPY).
BATCH = 2000
# Below this many new rows an ANALYZE would cost more than a blind plan can.
ANALYZE_MIN_ROWS = 1000
# A new test identity's columns, in the order ``BulkWriter.insert_tests`` takes them.
TEST_COLUMNS = (
    "project_id",
    "key",
    "file",
    "title_path",
    "title",
    "full_title",
    "browser_project",
    "created_at",
)
# The temporary table new identities pass through (``BulkWriter.insert_tests``).
_STAGED_TESTS = "staged_tests"


def find_test_ids(session: Session, project_id: int, keys: Sequence[str]) -> dict[str, int]:
    """The ids of the project's test identities among ``keys`` (absent keys are left out).

    PostgreSQL gets every key in one parameter, ``key = ANY(string_to_array(:keys, ','))``: a
    list of thousands of separate parameters is an expression the planner can neither hash nor
    estimate, and a plan cached while the table was empty (psycopg prepares a statement after
    five runs) went on scanning every row against every parameter once it held 100,000 tests:
    7-21 s per 2,000 keys. The keys travel as one comma-separated text, split by the server,
    because they are hex digests (no comma to escape) and psycopg adapts a Python list element
    by element (about 10 microseconds a key, a second per 100,000). SQLite has no arrays; it
    reads the keys in batches of ``SQLITE_LOOKUP_BATCH`` with ``IN``, answered by index seeks.
    """
    found: dict[str, int] = {}
    if not keys:
        return found
    if session.get_bind().dialect.name == "postgresql":
        listed = bindparam("keys", ",".join(keys), type_=Text)
        condition = Test.key == any_(func.string_to_array(listed, ",", type_=ARRAY(Text)))
        query = select(Test.key, Test.id).where(Test.project_id == project_id, condition)
        with _custom_plans(session):
            return {key: test_id for key, test_id in session.execute(query)}
    for start in range(0, len(keys), SQLITE_LOOKUP_BATCH):
        chunk = keys[start : start + SQLITE_LOOKUP_BATCH]
        query = select(Test.key, Test.id).where(Test.project_id == project_id, Test.key.in_(chunk))
        found.update({key: test_id for key, test_id in session.execute(query)})
    return found


@contextmanager
def _custom_plans(session: Session) -> Iterator[None]:
    """PostgreSQL: plan the enclosed statements for their actual parameters.

    After five runs a statement is prepared, and PostgreSQL may then keep one generic plan for
    it; one made while the tests table was empty is a sequential scan, catastrophic once the
    table is large (a timeout at 100,000 tests, measured). Only for the lookup: foreign-key
    checks of the bulk inserts rely on their cached plans.
    """
    previous = session.execute(text("SELECT current_setting('plan_cache_mode')")).scalar_one()
    session.execute(text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)"))
    try:
        yield
    finally:
        session.execute(
            text("SELECT set_config('plan_cache_mode', :previous, true)"), {"previous": previous}
        )


def analyze_if_grown(connection: Connection, table: Table, inserted: int) -> bool:
    """PostgreSQL: ``ANALYZE table`` when ``inserted`` new rows outnumber what its statistics
    describe (never analysed, or more than doubled since). Returns whether it ran."""
    if connection.dialect.name != "postgresql" or inserted < ANALYZE_MIN_ROWS:
        return False
    analysed = connection.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"),
        {"table": table.name},
    ).scalar_one()
    # reltuples is -1 for a table never analysed or vacuumed (PostgreSQL 14+), 0 before 14.
    if analysed >= inserted:
        return False
    connection.exec_driver_sql(f"ANALYZE {table.name}")
    return True


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
        if self.dialect != "sqlite":
            return value
        if value.year >= _ISOFORMAT_FROM_YEAR:
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")
        return value.strftime(_SQLITE_DATETIME)

    @staticmethod
    def adapt_json(value: Any) -> str:
        return dumps_storable(value)

    def reserve_ids(self, table: Table, count: int) -> Sequence[int]:
        """``count`` fresh primary keys for ``table`` (on SQLite a ``range``: no int objects
        for a 175,000-test report's ids until its rows are made).

        SQLite: the caller's transaction already holds the write lock (the run row was inserted
        first), so nobody else can take ids past ``max(id)`` before it commits. PostgreSQL: one
        round trip draws them from the table's sequence.
        """
        if count == 0:
            return []
        if self.dialect == "sqlite":
            top = self._connection.execute(select(func.coalesce(func.max(table.c.id), 0)))
            start = int(top.scalar_one()) + 1
            return range(start, start + count)
        rows = self._connection.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count)"
            ),
            {"table": table.name, "count": count},
        )
        return [int(value) for value in rows.scalars()]

    def insert(self, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
        """Insert ``rows``, taken ``BATCH`` at a time: a generator's rows are never all alive
        (a 100,000-test report's rows are larger than its records).

        The rows' text must be storable already (``ingest.rows`` checks each text cell as it
        makes it): neither the engine's check (``db.TEXT_CHECKED``) nor COPY looks again.
        """
        count = self._write(table.name, columns, rows)
        analyze_if_grown(self._connection, table, count)

    def insert_tests(self, rows: Sequence[tuple[Any, ...]]) -> dict[str, int]:
        """Insert new test identities (``TEST_COLUMNS``, in the drivers' value forms, text
        already checked storable) and return the key and id of each row inserted. A key that
        another ingest stored since the caller's lookup is skipped and left out of the answer
        (``ON CONFLICT DO NOTHING``), for the caller to look up; there is no other reason for
        one to be missing.

        The rows go through a temporary table: COPY (PostgreSQL) or one ``executemany``
        (SQLite) fills it, then one ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING``
        moves them. Neither driver returns rows from an ``executemany``, and an ``INSERT`` of
        2,000 rows of parameters costs PostgreSQL (and psycopg, and SQLAlchemy) far more than
        COPY: on a fresh database, where every identity is new, it was most of the time the
        first report took beyond the next one's (docs/performance.md). The table lives only
        inside this call (a rollback takes it away too), so ``rows`` is all that is held.
        """
        names = ", ".join(TEST_COLUMNS)
        self._connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {_STAGED_TESTS} AS "  # noqa: S608 - our names
            f"SELECT {names} FROM tests WHERE 1 = 0"
        )
        self._write(_STAGED_TESTS, TEST_COLUMNS, rows)
        # ``WHERE true``: SQLite's grammar needs a WHERE before an upsert's ON CONFLICT.
        inserted = self._connection.exec_driver_sql(
            f"INSERT INTO tests ({names}) SELECT {names} FROM {_STAGED_TESTS} WHERE true "  # noqa: S608
            "ON CONFLICT (project_id, key) DO NOTHING RETURNING key, id"
        )
        created = {key: test_id for key, test_id in inserted}
        self._connection.exec_driver_sql(f"DROP TABLE {_STAGED_TESTS}")
        return created

    def _write(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        """Insert ``rows`` into ``table`` without any check; returns how many there were."""
        names = ", ".join(columns)
        batches = _batches(rows)
        count = 0
        if self.dialect == "sqlite":
            marks = ", ".join("?" * len(columns))
            for batch in batches:
                self._connection.exec_driver_sql(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 - our names
                    batch,
                    execution_options={TEXT_CHECKED: True},
                )
                count += len(batch)
            return count
        cursor = self._connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for batch in batches:
                for row in batch:
                    copy.write_row(row)
                count += len(batch)
        return count


def _batches(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, BATCH)):
        yield batch
