"""Engine and session factory.

One session per use case: the request dependency ``get_session`` commits once when the handler
returns and rolls back on any error, so a failed request leaves nothing half-written. The one
exception is a refusal raised with ``AppError(commit=True)``: what it recorded commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from fastapi import Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from playdeck.errors import AppError
from playdeck.kit.http import SAFE_METHODS
from playdeck.kit.text import check_storable, dumps_storable

SQLITE_BUSY_TIMEOUT_MS = 15_000


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
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


def _refuse_unstorable(
    _conn: Any,
    _cursor: Any,
    _statement: str,
    parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    # One place for both databases: text PostgreSQL cannot hold (NUL) or no UTF-8 database can
    # (lone surrogates) is refused before it reaches the driver, so SQLite and PostgreSQL answer
    # alike (422, see errors.py) instead of PostgreSQL failing with a 500.
    check_storable(parameters)


def make_engine(url: str) -> Engine:
    is_sqlite = url.startswith("sqlite")
    kwargs: dict[str, Any] = {
        "json_serializer": dumps_storable,
        "json_deserializer": orjson.loads,
    }
    if is_sqlite:
        kwargs["connect_args"] = {
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    event.listen(engine, "before_cursor_execute", _refuse_unstorable)
    if is_sqlite:
        event.listen(engine, "connect", _configure_sqlite)
        # Take control of transaction begin from pysqlite (see SQLAlchemy "Serializable isolation").
        event.listen(
            engine,
            "connect",
            lambda dbapi_conn, _rec: setattr(dbapi_conn, "isolation_level", None),
        )
        event.listen(engine, "begin", _begin)
    return engine


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


def after_commit(session: Session, callback: Callable[[], object]) -> None:
    """Run ``callback`` once the session's transaction commits (files follow the database).

    SQLAlchemy fires ``after_commit`` for a released SAVEPOINT (``begin_nested``) too; that is
    not the end of the transaction, so it is skipped: the callback may need locks the
    transaction still holds (SQLite's write lock).
    """
    fired = False

    def listener(ended: Session) -> None:
        nonlocal fired
        if fired or ended.in_nested_transaction():
            return
        fired = True
        callback()

    event.listen(session, "after_commit", listener)


def after_rollback(session: Session, callback: Callable[[], object]) -> None:
    """Run ``callback`` if the session's transaction rolls back (a SAVEPOINT's rollback is not
    the transaction's)."""
    fired = False

    def listener(_session: Session, previous: SessionTransaction) -> None:
        nonlocal fired
        if fired or previous.nested:
            return
        fired = True
        callback()

    event.listen(session, "after_soft_rollback", listener)
