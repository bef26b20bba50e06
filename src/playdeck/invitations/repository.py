from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from playdeck.invitations.purpose import LinkPurpose
from playdeck.kit import sql
from playdeck.models import AccountLink


def add(session: Session, link: AccountLink) -> AccountLink:
    return sql.add(session, link)


def find(session: Session, *, token_hash: str, purpose: LinkPurpose) -> AccountLink | None:
    return session.scalars(
        select(AccountLink).where(
            AccountLink.token_hash == token_hash, AccountLink.purpose == purpose.value
        )
    ).first()


def claim(session: Session, link_id: int, *, at: datetime) -> bool:
    """Mark the link used, unless someone did first: single use without a read-then-write race
    (PostgreSQL re-checks ``used_at`` after waiting on the row; SQLite has one writer)."""
    return sql.claim_unused(session, AccountLink.used_at, AccountLink.id == link_id, at=at)


def pending_invitations(
    session: Session, *, now: datetime, project_id: int | None = None
) -> list[AccountLink]:
    query = select(AccountLink).where(
        AccountLink.purpose == LinkPurpose.INVITATION.value,
        AccountLink.used_at.is_(None),
        AccountLink.expires_at > now,
    )
    if project_id is not None:
        query = query.where(AccountLink.project_id == project_id)
    return list(session.scalars(query.order_by(AccountLink.id.desc())))


def get_invitation(session: Session, link_id: int) -> AccountLink | None:
    link = session.get(AccountLink, link_id)
    return link if link is not None and link.purpose == LinkPurpose.INVITATION else None


def remove(session: Session, link: AccountLink) -> None:
    session.delete(link)
    session.flush()


def drop_unused_resets(session: Session, user_id: int) -> int:
    """Earlier reset links of the user stop working: only the newest one does."""
    result = session.execute(
        delete(AccountLink).where(
            AccountLink.user_id == user_id,
            AccountLink.purpose == LinkPurpose.PASSWORD_RESET.value,
            AccountLink.used_at.is_(None),
        )
    )
    return sql.rowcount(result)
