"""SQL for API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from playdeck.kit import sql
from playdeck.models import ApiKey, Project, User
from playdeck.users import repository as users


def add(session: Session, key: ApiKey) -> ApiKey:
    return sql.add(session, key)


def by_hash(session: Session, key_hash: str) -> tuple[ApiKey, User] | None:
    """The key with this hash and its owner (one indexed lookup)."""
    return users.first_with_owner(session, ApiKey, ApiKey.user_id, ApiKey.key_hash == key_hash)


def list_for_user(session: Session, user_id: int) -> list[tuple[ApiKey, Project | None]]:
    """A user's keys, newest first, with the project each is restricted to."""
    rows = session.execute(
        select(ApiKey, Project)
        .outerjoin(Project, Project.id == ApiKey.project_id)
        .where(ApiKey.user_id == user_id)
        .order_by(ApiKey.id.desc())
    ).all()
    return [(key, project) for key, project in rows]


def list_all(session: Session) -> list[tuple[ApiKey, User, Project | None]]:
    rows = session.execute(
        select(ApiKey, User, Project)
        .join(User, User.id == ApiKey.user_id)
        .outerjoin(Project, Project.id == ApiKey.project_id)
        .order_by(ApiKey.id)
    ).all()
    return [(key, user, project) for key, user, project in rows]


def get(session: Session, key_id: int) -> ApiKey | None:
    return session.get(ApiKey, key_id)


def get_for_user(session: Session, *, key_id: int, user_id: int) -> ApiKey | None:
    return session.scalars(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id)
    ).first()


def revoke(session: Session, key_id: int, *, at: datetime) -> bool:
    """Revoke the key unless it already is; ``True`` when this call revoked it."""
    return sql.stamp_unset(session, ApiKey.revoked_at, ApiKey.id == key_id, at=at) == 1


def revoke_all_of_user(session: Session, user_id: int, *, at: datetime) -> int:
    """Revoke every key of the user that is not revoked yet; returns how many."""
    return sql.stamp_unset(session, ApiKey.revoked_at, ApiKey.user_id == user_id, at=at)


def touch(session: Session, key_id: int, *, at: datetime, unless_after: datetime) -> None:
    """Record a use, unless one was recorded after ``unless_after`` (concurrent requests of the
    same minute write once)."""
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= unless_after),
        )
        .values(last_used_at=at),
        execution_options={"synchronize_session": False},
    )
