"""What repositories write the same way whatever the table: adding a row, claiming a single-use
row (a refresh token, a challenge, a recovery code, a one-time link), counting the rows a
statement touched."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")


def add(session: Session, row: T) -> T:
    """``row`` inserted now (flushed: its id and defaults are there), in the caller's
    transaction."""
    session.add(row)
    session.flush()
    return row


def rowcount(result: object) -> int:
    """How many rows an ``UPDATE`` or ``DELETE`` touched (0 for anything else)."""
    return result.rowcount if isinstance(result, CursorResult) else 0


def stamp_unset(
    session: Session,
    column: InstrumentedAttribute[datetime | None],
    *where: ColumnElement[bool],
    at: datetime,
) -> int:
    """Set ``column`` (``used_at``, ``revoked_at``) to ``at`` on the rows ``where`` selects whose
    ``column`` is still empty; how many it set. One statement, without a read-then-write race:
    PostgreSQL re-checks ``column IS NULL`` after waiting on a concurrent transaction's row,
    SQLite has one writer, so a row is stamped once whoever else tries at the same time."""
    result = session.execute(
        update(column.class_).where(*where, column.is_(None)).values({column: at}),
        execution_options={"synchronize_session": False},
    )
    return rowcount(result)


def claim_unused(
    session: Session,
    used_at: InstrumentedAttribute[datetime | None],
    *where: ColumnElement[bool],
    at: datetime,
) -> bool:
    """Mark the single-use row ``where`` selects used at ``at``, unless it already is: ``True``
    for exactly one caller, however many try at once (``stamp_unset``)."""
    return stamp_unset(session, used_at, *where, at=at) == 1
