from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from playdeck.audit import service
from playdeck.audit.repository import AuditFilter
from playdeck.audit.schemas import AuditEvent, AuditPage
from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import LimitQuery, SessionDep
from playdeck.kit.pagination import DEFAULT_LIMIT, MAX_ID

router = APIRouter(prefix="/api/admin/audit", tags=["admin"])


@router.get("", response_model=AuditPage)
def list_audit_events(
    session: SessionDep,
    _principal: Annotated[Principal, authorize(Permission.AUDIT_READ)],
    action: Annotated[
        str | None, Query(max_length=64, description="Exact action, or a prefix ending in *.")
    ] = None,
    outcome: Literal["success", "failure"] | None = None,
    actor_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    user_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Events about this user.")
    ] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> AuditPage:
    """The security log, newest first (administrators only)."""
    where = AuditFilter(
        action=action,
        outcome=outcome,
        actor_id=actor_id,
        target_id=user_id,
        since=service.as_utc(since),
        until=service.as_utc(until),
    )
    rows, next_cursor = service.list_events(session, where=where, cursor=cursor, limit=limit)
    return AuditPage(items=[AuditEvent.model_validate(r) for r in rows], next_cursor=next_cursor)
