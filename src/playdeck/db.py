"""Engine and session factory.

One session per use case: the request dependency ``get_session`` commits once when the handler
returns and rolls back on any error, so a failed request leaves nothing half-written. The one
exception is a refusal raised with ``AppError(commit=True)``: what it recorded commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from fastapi import Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from playdeck.errors import AppError
from playdeck.kit.http import SAFE_METHODS
from playdeck.kit.text import check_storable, dumps_storable
from playdeck.settings import Settings


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Bounded waits on the database (``PLAYDECK_DB_*_SECONDS``), so a lost or locked database
    ends a request with a 503 instead of holding a worker thread indefinitely."""

    connect: int = 5
    statement: int = 60  # PostgreSQL only; 0: none
    lock: int = 15  # PostgreSQL lock_timeout, SQLite busy timeout
    pool: int = 10


def _configure_sqlite(dbapi_connection: Any, _record: Any, *, busy_timeout_ms: int) -> None:
    # WAL lets readers run beside the single writer; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Execution option naming how a SQLite transaction begins.
SQLITE_BEGIN = "sqlite_begin"


def _begin(conn: Any) -> None:
    # pysqlite defers BEGIN until the first write; an explicit BEGIN makes SAVEPOINTs and
    # isolation behave like a real transaction (SQLAlchemy's documented recipe). A use case
    # that may write begins IMMEDIATE: it takes the write lock up front (waiting up to the busy
    # timeout) instead of failing with "database is locked" when it upgrades from reading.
    mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'IMMEDIATE' else 'DEFERRED'}")


def writer(engine: Engine) -> Engine:
    """The engine to bind a use case that writes (SQLite: ``BEGIN IMMEDIATE``)."""
    return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})


# Execution option of a statement whose parameters were checked storable where they were made
# (bulk ingest rows, ``ingest.rows``): ``_refuse_unstorable`` need not walk every cell again.
TEXT_CHECKED = "playdeck_text_checked"


def _refuse_unstorable(
    _conn: Any,
    _cursor: Any,
    _statement: str,
    parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    # One place for both databases: text PostgreSQL cannot hold (NUL) or no UTF-8 database can
    # (lone surrogates) is refused before it reaches the driver, so SQLite and PostgreSQL answer
    # alike (422, see errors.py) instead of PostgreSQL failing with a 500.
    if context is not None and context.execution_options.get(TEXT_CHECKED):
        return
    check_storable(parameters)


def make_engine(url: str, timeouts: Timeouts | None = None) -> Engine:
    timeouts = timeouts or Timeouts()
    is_sqlite = url.startswith("sqlite")
    kwargs: dict[str, Any] = {
        "json_serializer": dumps_storable,
        "json_deserializer": orjson.loads,
    }
    if is_sqlite:
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": timeouts.lock}
    else:
        # A restarted server leaves dead pooled connections: pre-ping replaces them, so the
        # app recovers without a restart. Server-side timeouts end a stuck statement or lock
        # wait, and a transaction left idle by a vanished client.
        kwargs["pool_pre_ping"] = True
        kwargs["pool_timeout"] = timeouts.pool
        options = f"-c lock_timeout={timeouts.lock * 1000}"
        if timeouts.statement:
            options += f" -c statement_timeout={timeouts.statement * 1000}"
        options += f" -c idle_in_transaction_session_timeout={max(timeouts.statement, 60) * 1000}"
        kwargs["connect_args"] = {"connect_timeout": timeouts.connect, "options": options}
    engine = create_engine(url, **kwargs)
    event.listen(engine, "before_cursor_execute", _refuse_unstorable)
    if is_sqlite:
        event.listen(
            engine, "connect", partial(_configure_sqlite, busy_timeout_ms=timeouts.lock * 1000)
        )
        # Take control of transaction begin from pysqlite (see SQLAlchemy "Serializable isolation").
        event.listen(
            engine,
            "connect",
            lambda dbapi_conn, _rec: setattr(dbapi_conn, "isolation_level", None),
        )
        event.listen(engine, "begin", _begin)
    return engine


def timeouts_of(settings: Settings) -> Timeouts:
    """The database waits ``settings`` names."""
    return Timeouts(
        connect=settings.db_connect_timeout_seconds,
        statement=settings.db_statement_timeout_seconds,
        lock=settings.db_lock_timeout_seconds,
        pool=settings.db_pool_timeout_seconds,
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def get_session(request: Request) -> Iterator[Session]:
    """Request-scoped session, the one place a request's transaction ends: commit once on
    success, roll back on any exception except a refusal raised with ``commit=True``, whose
    recorded side effects commit before it is rendered. The exception then propagates to the
    error handlers, which run after the session is closed.

    Requests with an unsafe method are bound to the writer engine (see ``writer``).
    """
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    state = request.app.state
    bind = state.engine if request.method in SAFE_METHODS else state.write_engine
    with unit_of_work(factory, bind) as session:
        yield session


@contextmanager
def unit_of_work(factory: sessionmaker[Session], bind: Engine) -> Iterator[Session]:
    """A session whose transaction ends with the block: committed when it completes, rolled
    back on any exception except a refusal raised with ``commit=True`` (see ``get_session``;
    also the ingest worker's, which serves a request from another process)."""
    with factory(bind=bind) as session:
        try:
            yield session
        except AppError as refusal:
            if refusal.commit:
                session.commit()
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
        else:
            session.commit()


@contextmanager
def reading_session(request: Request) -> Iterator[Session]:
    """A short read-only session on the reader engine, for work that comes after the request's
    own session has settled (a refused form rendered again by the error layer). Whatever it
    began is rolled back when it closes."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory(bind=request.app.state.engine) as session:
        try:
            yield session
        finally:
            session.rollback()


_WROTE = "playdeck_wrote"


@event.listens_for(Session, "after_flush")
def _note_writes(session: Session, _context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


def end_reads(session: Session) -> None:
    """End a transaction that has only read, and hand its connection back to the pool.

    For a use case with a slow part that needs no database (receiving and parsing an upload,
    writing its files): what it read so far (who is calling, may they write here) is settled,
    and neither a transaction (SQLite's write lock) nor a pooled connection is held while it
    waits; the session begins a new transaction when it is next used. A transaction that has
    written is left alone: it is the caller's unit of work (the demo's many runs in one).
    """
    if session.new or session.dirty or session.deleted or session.info.get(_WROTE):
        return
    session.commit()


def _when_released(session: Session, outcome: str, callback: Callable[[], object]) -> None:
    """Run ``callback`` once, when the session's transaction has ended with ``outcome`` and its
    connection is back in the pool.

    Not from SQLAlchemy's ``after_commit`` itself: the connection is still checked out there,
    and a callback that opens its own session (a last-seen timestamp, a file cleanup) would
    hold two pooled connections per request: enough concurrent requests then wait on each
    other until the pool times out. A SAVEPOINT (``begin_nested``) ending is not the
    transaction ending.
    """
    committed = False
    fired = False

    def on_commit(ended: Session) -> None:
        nonlocal committed
        if not ended.in_nested_transaction():
            committed = True

    def on_end(_session: Session, transaction: SessionTransaction) -> None:
        # A top-level transaction that ends without a commit was rolled back (or closed,
        # which is the same for what it wrote).
        nonlocal committed, fired
        if fired or transaction.parent is not None:
            return
        ended = "commit" if committed else "rollback"
        committed = False
        if ended == outcome:
            fired = True
            callback()

    event.listen(session, "after_commit", on_commit)
    event.listen(session, "after_transaction_end", on_end)


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run ``callback`` once the session's transaction commits (files follow the database)."""
    _when_released(session, "commit", callback)


def after_rollback(session: Session, callback: Callable[[], object]) -> None:
    """Run ``callback`` if the session's transaction rolls back (a SAVEPOINT's rollback is not
    the transaction's)."""
    _when_released(session, "rollback", callback)
