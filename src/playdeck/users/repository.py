"""SQL for users. Counters change with single UPDATE statements so concurrent logins never lose
a failure."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, delete, func, select, text, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from playdeck.auth.principal import GlobalRole
from playdeck.kit import sql
from playdeck.models import Project, ServiceAccount, User

USER_CREATION_LOCK_KEY = 0x706C6179_6465636B  # "playdeck"

T = TypeVar("T")


def lock_user_creation(session: Session) -> None:
    """Serialise "create a user if none exists" across processes, inside this transaction.

    PostgreSQL takes a transaction-scoped advisory lock. SQLite has one writer at a time, so the
    transaction takes the write lock first: a deferred transaction that read before writing would
    fail with a stale snapshot instead of waiting its turn.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": USER_CREATION_LOCK_KEY})
    elif dialect == "sqlite":
        claim_sqlite_write_lock(session)


def claim_sqlite_write_lock(session: Session) -> None:
    """Make SQLite take its write lock now, while the transaction has read nothing yet.

    An UPDATE that matches no row still starts a write transaction, and SQLite waits (busy
    timeout) for the lock instead of failing, because no read snapshot can be stale yet.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(User).where(text("1 = 0")).values(id=User.id),
            execution_options={"synchronize_session": False},
        )


def with_owner(model: type[T], owner_id: InstrumentedAttribute[int]) -> Select[T, User]:
    """``model``'s rows, each with the user it belongs to (``owner_id``: its user column)."""
    return select(model, User).join(User, User.id == owner_id)


def first_with_owner(
    session: Session,
    model: type[T],
    owner_id: InstrumentedAttribute[int],
    *where: ColumnElement[bool],
) -> tuple[T, User] | None:
    """The row of ``model`` that ``where`` selects and the user it belongs to, in one query."""
    row = session.execute(with_owner(model, owner_id).where(*where)).first()
    return None if row is None else (row[0], row[1])


def get(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def find_by_username(session: Session, username: str) -> User | None:
    return session.scalars(
        select(User).where(func.lower(User.username) == username.strip().lower())
    ).first()


def find_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email.strip().lower())).first()


def find_by_login(session: Session, identifier: str, *, email_first: bool = False) -> User | None:
    """The account a login name designates: username or email, the named field first."""
    lookups = (
        (find_by_email, find_by_username) if email_first else (find_by_username, find_by_email)
    )
    for lookup in lookups:
        user = lookup(session, identifier)
        if user is not None:
            return user
    return None


def find_by_ref(session: Session, ref: str) -> User | None:
    """A user by numeric id, username or email (the CLI's way to name one)."""
    if ref.isascii() and ref.isdigit():
        return session.get(User, int(ref))
    return find_by_login(session, ref)


def exists_any(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def username_or_email_taken(session: Session, *, username: str, email: str | None) -> bool:
    taken = func.lower(User.username) == username.lower()
    if email:
        taken = taken | (User.email == email)
    return session.scalar(select(User.id).where(taken).limit(1)) is not None


def list_all(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def add(session: Session, user: User) -> User:
    return sql.add(session, user)


def record_failure(session: Session, user_id: int) -> int:
    """Add one consecutive failure atomically; returns the new count."""
    count = session.scalar(
        update(User)
        .where(User.id == user_id)
        .values(failed_login_attempts=User.failed_login_attempts + 1)
        .returning(User.failed_login_attempts)
    )
    return int(count or 0)


def lock(session: Session, user_id: int, *, until: datetime) -> None:
    session.execute(
        update(User).where(User.id == user_id).values(locked_until=until, failed_login_attempts=0)
    )


def unlock(session: Session, user_id: int) -> None:
    session.execute(
        update(User).where(User.id == user_id).values(locked_until=None, failed_login_attempts=0)
    )


def record_success(session: Session, user_id: int, *, at: datetime) -> None:
    session.execute(
        update(User)
        .where(User.id == user_id)
        .values(failed_login_attempts=0, locked_until=None, last_login_at=at)
    )


def delete_user(session: Session, user_id: int) -> None:
    session.execute(delete(User).where(User.id == user_id))


def list_page(
    session: Session,
    *,
    q: str | None,
    role: str | None,
    active: bool | None,
    service: bool | None,
    after_id: int | None,
    limit: int,
) -> list[User]:
    """Users by id; ``q`` matches username, email or display name; ``service``: service
    accounts only (true) or people only (false). One row more than ``limit`` tells there is a
    next page."""
    query = select(User)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped.lower()}%"
        query = query.where(
            func.lower(User.username).like(pattern, escape="\\")
            | User.email.like(pattern, escape="\\")
            | func.lower(User.display_name).like(pattern, escape="\\")
        )
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.is_active.is_(active))
    if service is not None:
        query = query.where(User.is_service.is_(service))
    if after_id is not None:
        query = query.where(User.id > after_id)
    return list(session.scalars(query.order_by(User.id).limit(limit + 1)))


def service_account_projects(session: Session, user_ids: list[int]) -> dict[int, str | None]:
    """Of these users, the service accounts, each with the slug of the project that owns it
    (``None``: a global one)."""
    rows = session.execute(
        select(ServiceAccount.user_id, Project.slug)
        .outerjoin(Project, Project.id == ServiceAccount.project_id)
        .where(ServiceAccount.user_id.in_(user_ids))
    )
    return {user_id: slug for user_id, slug in rows}


def lock_active_admin_ids(session: Session) -> list[int]:
    """The active administrators who are people (a service account cannot sign in to
    administer anything), their rows locked until commit (PostgreSQL), so two concurrent
    demotions cannot each see "another admin remains" and leave none."""
    return list(
        session.scalars(
            select(User.id)
            .where(
                User.role == GlobalRole.ADMIN.value,
                User.is_active.is_(True),
                User.is_service.is_(False),
            )
            .order_by(User.id)
            .with_for_update()
        )
    )
