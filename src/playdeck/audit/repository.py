from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.kit import sql
from playdeck.models import AuditEvent


@dataclass(frozen=True, slots=True)
class AuditFilter:
    action: str | None = None
    outcome: str | None = None
    actor_id: int | None = None
    target_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def add(session: Session, event: AuditEvent) -> AuditEvent:
    return sql.add(session, event)


def list_page(
    session: Session, *, where: AuditFilter, before_id: int | None, limit: int
) -> list[AuditEvent]:
    """Newest first; one row more than ``limit`` tells the caller another page exists."""
    query = select(AuditEvent)
    if where.action:
        if where.action.endswith("*"):
            prefix = where.action[:-1]
            escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(AuditEvent.action.like(f"{escaped}%", escape="\\"))
        else:
            query = query.where(AuditEvent.action == where.action)
    if where.outcome:
        query = query.where(AuditEvent.outcome == where.outcome)
    if where.actor_id is not None:
        query = query.where(AuditEvent.actor_id == where.actor_id)
    if where.target_id is not None:
        query = query.where(
            AuditEvent.target_type == "user", AuditEvent.target_id == where.target_id
        )
    if where.since is not None:
        query = query.where(AuditEvent.created_at >= where.since)
    if where.until is not None:
        query = query.where(AuditEvent.created_at < where.until)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
