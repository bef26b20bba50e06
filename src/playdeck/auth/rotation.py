"""Refresh-token rotation (RFC 9700): a refresh token is good for one exchange; presenting a
used one revokes its login session, but for a client's benign double send.

The revocation is raised with ``commit=True``: the request's session dependency commits the
ended session and its audit event before the 401 is rendered.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from playdeck.audit import service as audit
from playdeck.audit.service import Action
from playdeck.auth import repository, sessions
from playdeck.auth.attempt import ensure_enabled
from playdeck.auth.client import ClientInfo
from playdeck.auth.rate_limit import RateLimits
from playdeck.auth.sessions import TokenPair
from playdeck.auth.tokens import hash_secret, successor_refresh_token
from playdeck.errors import Unauthorized
from playdeck.kit.clock import utcnow
from playdeck.models import RefreshToken, User, UserSession
from playdeck.settings import Settings

logger = logging.getLogger("playdeck.auth")


def _invalid_refresh() -> Unauthorized:
    return Unauthorized("Invalid or expired refresh token", code="invalid_refresh_token")


def _live(row: UserSession, user: User, now: datetime) -> bool:
    return row.expires_at > now and user.is_active


def _benign_double_send(
    session: Session, *, settings: Settings, token: RefreshToken, presented: str
) -> bool:
    """Whether a used refresh token may be replayed: within the grace window, and only the
    immediate predecessor of the family's head (its successor exists and is still unused).
    Anything older is theft, whatever the time."""
    grace = timedelta(seconds=settings.refresh_reuse_grace_seconds)
    if not grace or token.used_at is None or utcnow() - token.used_at > grace:
        return False
    successor = successor_refresh_token(secret=sessions.secret_of(settings), predecessor=presented)
    found = repository.refresh_token_by_hash(session, hash_secret(successor))
    return found is not None and found[0].used_at is None


def refresh(
    session: Session,
    *,
    settings: Settings,
    limits: RateLimits,
    client: ClientInfo,
    refresh_token: str,
) -> TokenPair:
    """Rotate a refresh token (RFC 9700): the presented one dies, a new pair is issued.

    Presenting a token that was already used revokes its whole family (the login session), unless
    it was used less than ``refresh_reuse_grace_seconds`` ago and is the immediate predecessor of
    the family's head: then the very same successor is returned again (a client's benign double
    send, or a race of concurrent refreshes), never a new branch.
    """
    ensure_enabled(settings)
    limits.check_sensitive("refresh", ip=client.ip)
    token_hash = hash_secret(refresh_token)
    now = utcnow()
    # The claim is the transaction's first statement, so on SQLite it waits for the write lock
    # rather than reading a snapshot another refresh could make stale.
    won = repository.claim_refresh_token(session, token_hash, now=now)
    found = repository.refresh_token_by_hash(session, token_hash)
    if found is None:
        raise _invalid_refresh()
    token, row, user = found
    if not won:
        if token.used_at is None:
            raise _invalid_refresh()  # expired, never used
        replay = _benign_double_send(
            session, settings=settings, token=token, presented=refresh_token
        )
        if replay and _live(row, user, now):
            return sessions.reissue_tokens(
                session, user=user, session_row=row, settings=settings, predecessor=refresh_token
            )
        sessions.end_session(session, row.id)
        audit.record_refusal(
            session,
            Action.REFRESH_REUSED,
            target=user,
            client=client,
            details={"session_id": row.id},
        )
        logger.warning("refresh token reuse: session %s of user %s revoked", row.id, user.id)
        raise Unauthorized(
            "Refresh token already used; the session has been revoked",
            code="refresh_token_reused",
            commit=True,
        )
    if not _live(row, user, now) or token.created_at < user.password_changed_at:
        raise _invalid_refresh()
    repository.prune_refresh_tokens(session, row.id, now=now)
    return sessions.issue_tokens(
        session, user=user, session_row=row, settings=settings, predecessor=refresh_token
    )
