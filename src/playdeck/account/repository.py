"""SQL for email-verification links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from playdeck.kit import sql
from playdeck.models import EmailVerification


def add(session: Session, link: EmailVerification) -> EmailVerification:
    return sql.add(session, link)


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
    """Mark the link used, unless someone did first (``kit.sql.claim_unused``)."""
    return sql.claim_unused(
        session, EmailVerification.used_at, EmailVerification.id == link_id, at=at
    )


def drop_unused(session: Session, user_id: int) -> int:
    """Earlier links of the user stop working: only the newest address may be proven."""
    result = session.execute(
        delete(EmailVerification).where(
            EmailVerification.user_id == user_id, EmailVerification.used_at.is_(None)
        ),
        execution_options={"synchronize_session": False},
    )
    return sql.rowcount(result)
