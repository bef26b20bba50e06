"""``/admin/audit``: the security log for administrators, newest first, with filters and pages.

Reads through ``audit.service.list_events``, the same query as ``GET /api/admin/audit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from playdeck.audit import service as audit_service
from playdeck.audit.repository import AuditFilter
from playdeck.audit.service import Action, Outcome
from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.errors import InvalidInput
from playdeck.kit.pagination import MAX_ID
from playdeck.models import AuditEvent
from playdeck.users import repository as users_repository
from playdeck.web.context import pager
from playdeck.web.params import CursorQuery, TextFilters, TextQuery, day, day_after, day_start
from playdeck.web.rendering import render
from playdeck.web.views import ViewDep

router = APIRouter()

EVENTS_PER_PAGE = 50
MAX_ACTION = 64
OUTCOMES = tuple(o.value for o in Outcome)


def action_choices() -> list[tuple[str, str]]:
    """``(value, label)`` for the action filter: each family (``login.*``), then each action."""
    families = sorted({a.value.split(".", 1)[0] for a in Action if "." in a.value})
    grouped = [(f"{family}.*", f"{family}.* (all)") for family in families]
    return grouped + [(a.value, a.value) for a in sorted(Action, key=lambda a: a.value)]


@dataclass(frozen=True, slots=True)
class AuditFilters(TextFilters):
    action: TextQuery = None
    outcome: TextQuery = None
    user: TextQuery = None
    actor: TextQuery = None
    since: TextQuery = None
    until: TextQuery = None


@dataclass(frozen=True, slots=True)
class EventRow:
    event: AuditEvent
    details: str

    @classmethod
    def of(cls, event: AuditEvent) -> EventRow:
        details = orjson.dumps(event.details).decode() if event.details else ""
        return cls(event=event, details=details)


def _user_id(session: Session, ref: str | None) -> tuple[int | None, bool]:
    """The id a user filter names (``id``, username or email) and whether it names anyone.

    A number is taken as an id even when no such user exists any more: the log outlives users.
    """
    if ref is None:
        return None, True
    if ref.isascii() and ref.isdigit():
        return (int(ref), True) if 1 <= int(ref) <= MAX_ID else (None, False)
    user = users_repository.find_by_login(session, ref)
    return (user.id, True) if user is not None else (None, False)


def _checked(filters: AuditFilters) -> None:
    if filters.outcome is not None and filters.outcome not in OUTCOMES:
        raise InvalidInput(f"Unknown outcome: {filters.outcome}", code="invalid_outcome")
    if filters.action is not None and len(filters.action) > MAX_ACTION:
        raise InvalidInput("Action filter is too long", code="invalid_action")


@router.get("/admin/audit", response_class=HTMLResponse)
def show_audit_log(
    view: ViewDep,
    principal: Annotated[Principal, authorize(Permission.AUDIT_READ)],
    filters: Annotated[AuditFilters, Depends()],
    cursor: CursorQuery = None,
) -> HTMLResponse:
    request, session = view.request, view.session
    _checked(filters)
    target_id, target_known = _user_id(session, filters.user)
    actor_id, actor_known = _user_id(session, filters.actor)
    where = AuditFilter(
        action=filters.action,
        outcome=filters.outcome,
        actor_id=actor_id,
        target_id=target_id,
        since=day_start(day(filters.since, name="From")),
        until=day_after(day(filters.until, name="To")),
    )
    rows: list[AuditEvent] = []
    next_cursor = None
    if target_known and actor_known:
        rows, next_cursor = audit_service.list_events(
            session, where=where, cursor=cursor, limit=EVENTS_PER_PAGE
        )
    unknown_users = [
        ref
        for ref, known in ((filters.user, target_known), (filters.actor, actor_known))
        if ref is not None and not known
    ]
    return render(
        request,
        "admin/audit.html",
        principal=principal,
        events=[EventRow.of(row) for row in rows],
        filters=filters,
        actions=action_choices(),
        outcomes=OUTCOMES,
        unknown_users=unknown_users,
        **pager(request, cursor=cursor, next_cursor=next_cursor),
        clear_url=request.url.path,
    )
