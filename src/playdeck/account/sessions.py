"""One's own login sessions: the list ``/account`` and ``GET /api/auth/sessions`` show, and
ending any one of them (another device, or this one).

A session is named by its ``public_id`` (what access tokens carry as ``sid``), never by its row
id or its cookie: the cookie is a credential, the row id a counter. Another user's session id,
an expired one and one that never existed are the same 404, so ids cannot be probed.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Trail
from playdeck.auth import repository, sessions
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import Principal
from playdeck.authz.service import require_password_sign_in
from playdeck.errors import NotFound
from playdeck.kit.clock import utcnow
from playdeck.models import UserSession

SESSIONS_SHOWN = 50
SESSION_NOT_FOUND = "Session not found"


def list_sessions(
    session: Session, *, principal: Principal, limit: int = SESSIONS_SHOWN
) -> list[UserSession]:
    """The caller's live sessions, most recently used first (none without an account)."""
    require_password_sign_in(principal, to="see your sessions")
    if principal.user_id is None:
        return []
    return sessions.active_sessions(session, user_id=principal.user_id, limit=limit)


def find_session(session: Session, *, principal: Principal, public_id: str) -> UserSession:
    """One of the caller's live sessions; 404 for anyone else's, an expired or an unknown one."""
    require_password_sign_in(principal, to="manage your sessions")
    found = (
        repository.session_for_token(session, public_id=public_id, user_id=principal.user_id)
        if principal.user_id is not None
        else None
    )
    if found is None or found[0].expires_at <= utcnow():
        raise NotFound(SESSION_NOT_FOUND, code="session_not_found")
    return found[0]


def end_session(
    session: Session, *, principal: Principal, public_id: str, client: ClientInfo
) -> bool:
    """End one of the caller's sessions: its cookie, access tokens and refresh tokens stop
    working on their next use. Returns whether it was the caller's own current session."""
    row = find_session(session, principal=principal, public_id=public_id)
    current = row.id == principal.session_id
    sessions.end_session(session, row.id)
    trail = Trail.of(session, principal, client)
    trail.record(Action.SESSION_ENDED, session_id=row.id, current=current)
    return current
