"""Signing out: ending this login session, or every session of the user."""

from __future__ import annotations

from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Trail
from playdeck.auth import repository, sessions
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import Principal
from playdeck.auth.tokens import hash_secret


def logout(
    session: Session, *, principal: Principal, refresh_token: str | None, client: ClientInfo
) -> None:
    """End this login session, and the one the given refresh token belongs to (if it is the
    caller's own)."""
    ended: list[int] = []
    if principal.session_id is not None:
        sessions.end_session(session, principal.session_id)
        ended.append(principal.session_id)
    if refresh_token and principal.user_id is not None:
        found = repository.refresh_token_by_hash(session, hash_secret(refresh_token))
        if found is not None and found[2].id == principal.user_id and found[1].id not in ended:
            sessions.end_session(session, found[1].id)
            ended.append(found[1].id)
    if principal.user_id is not None:
        Trail.of(session, principal, client).record(Action.LOGOUT, sessions_ended=len(ended))


def logout_all(session: Session, *, principal: Principal, client: ClientInfo) -> int:
    if principal.user_id is None:
        return 0
    ended = repository.delete_user_sessions(session, principal.user_id)
    Trail.of(session, principal, client).record(Action.LOGOUT_ALL, sessions_ended=ended)
    return ended
