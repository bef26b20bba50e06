"""SQL for login sessions and refresh tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from playdeck.kit import sql
from playdeck.models import RefreshToken, User, UserSession
from playdeck.users import repository as users


def add_session(session: Session, row: UserSession) -> UserSession:
    return sql.add(session, row)


def session_by_hash(session: Session, token_hash: str) -> tuple[UserSession, User] | None:
    return users.first_with_owner(
        session, UserSession, UserSession.user_id, UserSession.token_hash == token_hash
    )


def session_for_token(
    session: Session, *, public_id: str, user_id: int
) -> tuple[UserSession, User] | None:
    return users.first_with_owner(
        session,
        UserSession,
        UserSession.user_id,
        UserSession.public_id == public_id,
        UserSession.user_id == user_id,
    )


def get_session(session: Session, session_id: int) -> UserSession | None:
    return session.get(UserSession, session_id)


def live_sessions(
    session: Session, user_id: int, *, now: datetime, limit: int
) -> list[UserSession]:
    """A user's unexpired login sessions, most recently used first."""
    return list(
        session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id, UserSession.expires_at > now)
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
            .limit(limit)
        )
    )


def delete_session(session: Session, session_id: int) -> None:
    session.execute(
        delete(UserSession).where(UserSession.id == session_id),
        execution_options={"synchronize_session": False},
    )


def delete_user_sessions(session: Session, user_id: int, *, keep: int | None = None) -> int:
    statement = delete(UserSession).where(UserSession.user_id == user_id)
    if keep is not None:
        statement = statement.where(UserSession.id != keep)
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return sql.rowcount(result)


def delete_expired_sessions(session: Session, user_id: int, *, now: datetime) -> None:
    session.execute(
        delete(UserSession).where(UserSession.user_id == user_id, UserSession.expires_at <= now),
        execution_options={"synchronize_session": False},
    )


def touch_session(session: Session, session_id: int, *, at: datetime) -> None:
    session.execute(
        update(UserSession).where(UserSession.id == session_id).values(last_seen_at=at),
        execution_options={"synchronize_session": False},
    )


def add_refresh_token(session: Session, row: RefreshToken) -> RefreshToken:
    return sql.add(session, row)


def claim_refresh_token(session: Session, token_hash: str, *, now: datetime) -> bool:
    """Mark the token used, if it is unused and unexpired. Exactly one caller ever gets ``True``
    (``kit.sql.claim_unused``)."""
    return sql.claim_unused(
        session,
        RefreshToken.used_at,
        RefreshToken.token_hash == token_hash,
        RefreshToken.expires_at > now,
        at=now,
    )


def refresh_token_by_hash(
    session: Session, token_hash: str
) -> tuple[RefreshToken, UserSession, User] | None:
    row = session.execute(
        select(RefreshToken, UserSession, User)
        .join(UserSession, UserSession.id == RefreshToken.session_id)
        .join(User, User.id == UserSession.user_id)
        .where(RefreshToken.token_hash == token_hash)
    ).first()
    return (row[0], row[1], row[2]) if row else None


def prune_refresh_tokens(session: Session, session_id: int, *, now: datetime) -> None:
    """Expired tokens of a family: too old to be presented, so no longer needed for reuse checks."""
    session.execute(
        delete(RefreshToken).where(
            RefreshToken.session_id == session_id, RefreshToken.expires_at <= now
        ),
        execution_options={"synchronize_session": False},
    )
