"""SQL for email-verification links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from playdeck.models import EmailVerification


def add(session: Session, link: EmailVerification) -> EmailVerification:
    session.add(link)
    session.flush()
    return link


def find(session: Session, token_hash: str) -> EmailVerification | None:
    return session.scalars(
        select(EmailVerification).where(EmailVerification.token_hash == token_hash)
    ).first()


def pending(session: Session, user_id: int, *, now: datetime) -> EmailVerification | None:
    """The user's newest link that may still be used: their pending address."""
    return session.scalars(
        select(EmailVerification)
        .where(
            EmailVerification.user_id == user_id,
            EmailVerification.used_at.is_(None),
            EmailVerification.expires_at > now,
        )
        .order_by(EmailVerification.id.desc())
        .limit(1)
    ).first()


def claim(session: Session, link_id: int, *, at: datetime) -> bool:
    """Mark the link used, unless someone did first (single use without a read-then-write race)."""
    result = session.execute(
        update(EmailVerification)
        .where(EmailVerification.id == link_id, EmailVerification.used_at.is_(None))
        .values(used_at=at)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result) == 1


def drop_unused(session: Session, user_id: int) -> int:
    """Earlier links of the user stop working: only the newest address may be proven."""
    result = session.execute(
        delete(EmailVerification).where(
            EmailVerification.user_id == user_id, EmailVerification.used_at.is_(None)
        ),
        execution_options={"synchronize_session": False},
    )
    return _rowcount(result)


def _rowcount(result: object) -> int:
    return result.rowcount if isinstance(result, CursorResult) else 0
