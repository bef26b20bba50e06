"""Login sessions: what a successful login issues, and how a cookie or access token is checked.

A login creates one ``user_sessions`` row. The browser gets its secret id as a cookie; API clients
get an access token naming the row (``sid``) and a refresh token in the row's family. Every use
re-reads the row and its user, so logout, deactivation, deletion and password changes take effect
on the very next request, not when a token happens to expire.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from playdeck.auth import repository
from playdeck.auth.client import ClientInfo
from playdeck.auth.csrf import csrf_token
from playdeck.auth.tokens import (
    AccessClaims,
    hash_secret,
    issue_access_token,
    new_public_id,
    new_refresh_token,
    new_session_secret,
    successor_refresh_token,
)
from playdeck.kit.clock import utcnow
from playdeck.models import RefreshToken, User, UserSession
from playdeck.settings import Settings

# last_seen_at is written at most this often per session, so reads stay reads.
TOUCH_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    access_expires_in: int
    refresh_token: str
    refresh_expires_in: int


@dataclass(frozen=True, slots=True)
class IssuedLogin:
    user: User
    session_id: int
    session_secret: str
    csrf_token: str
    tokens: TokenPair
    cookie_max_age: int


def secret_of(settings: Settings) -> str:
    if settings.secret_key is None:  # settings refuse to load this way while auth is on
        raise RuntimeError("authentication needs PLAYDECK_SECRET_KEY")
    return settings.secret_key.get_secret_value()


def family_end(session_row: UserSession, settings: Settings) -> datetime:
    """When a login's refresh family ends: ``refresh_token_days`` after sign-in, absolutely.
    Rotation never moves it."""
    return session_row.created_at + timedelta(days=settings.refresh_token_days)


def _pair(
    *, user: User, session_row: UserSession, settings: Settings, refresh: str, now: datetime
) -> TokenPair:
    access_lifetime = timedelta(minutes=settings.access_token_minutes)
    access, _expires = issue_access_token(
        secret=secret_of(settings),
        user_id=user.id,
        session_id=session_row.public_id,
        lifetime=access_lifetime,
    )
    refresh_left = family_end(session_row, settings) - now
    return TokenPair(
        access_token=access,
        access_expires_in=int(access_lifetime.total_seconds()),
        refresh_token=refresh,
        refresh_expires_in=max(0, math.ceil(refresh_left.total_seconds())),
    )


def issue_tokens(
    session: Session,
    *,
    user: User,
    session_row: UserSession,
    settings: Settings,
    predecessor: str | None = None,
) -> TokenPair:
    """A fresh access token and a refresh token in ``session_row``'s family.

    The refresh token that rotating ``predecessor`` issues is derived from it (see
    ``successor_refresh_token``); the first token of a login is random.
    """
    now = utcnow()
    refresh = (
        new_refresh_token()
        if predecessor is None
        else successor_refresh_token(secret=secret_of(settings), predecessor=predecessor)
    )
    repository.add_refresh_token(
        session,
        RefreshToken(
            session_id=session_row.id,
            token_hash=hash_secret(refresh),
            created_at=now,
            expires_at=family_end(session_row, settings),
        ),
    )
    return _pair(user=user, session_row=session_row, settings=settings, refresh=refresh, now=now)


def reissue_tokens(
    session: Session,
    *,
    user: User,
    session_row: UserSession,
    settings: Settings,
    predecessor: str,
) -> TokenPair:
    """The pair rotating ``predecessor`` already issued, again: the same (derived) refresh token,
    which stays in the database as it is, and a fresh access token."""
    now = utcnow()
    refresh = successor_refresh_token(secret=secret_of(settings), predecessor=predecessor)
    return _pair(user=user, session_row=session_row, settings=settings, refresh=refresh, now=now)


def start_session(
    session: Session,
    *,
    user: User,
    settings: Settings,
    client: ClientInfo,
    sso_provider: str | None = None,
) -> IssuedLogin:
    now = utcnow()
    repository.delete_expired_sessions(session, user.id, now=now)
    secret = new_session_secret()
    cookie_lifetime = timedelta(days=settings.session_days)
    # The row lives as long as the longer of its cookie and its refresh family, both counted
    # from sign-in; neither is ever extended.
    row_lifetime = max(cookie_lifetime, timedelta(days=settings.refresh_token_days))
    row = repository.add_session(
        session,
        UserSession(
            user_id=user.id,
            public_id=new_public_id(),
            token_hash=hash_secret(secret),
            created_at=now,
            last_seen_at=now,
            expires_at=now + row_lifetime,
            user_agent=client.user_agent,
            ip=client.ip,
            sso_provider=sso_provider,
        ),
    )
    tokens = issue_tokens(session, user=user, session_row=row, settings=settings)
    return IssuedLogin(
        user=user,
        session_id=row.id,
        session_secret=secret,
        csrf_token=csrf_token(secret_key=secret_of(settings), session_secret=secret),
        tokens=tokens,
        cookie_max_age=int(cookie_lifetime.total_seconds()),
    )


def cookie_session(
    session: Session, *, secret: str, settings: Settings
) -> tuple[UserSession, User] | None:
    """The live session a cookie names, or ``None`` (unknown, expired, or user inactive)."""
    found = repository.session_by_hash(session, hash_secret(secret))
    if found is None:
        return None
    row, user = found
    now = utcnow()
    # The cookie lasts session_days from login even if its token family was refreshed longer.
    cookie_end = row.created_at + timedelta(days=settings.session_days)
    if row.expires_at <= now or cookie_end <= now or not user.is_active:
        return None
    return row, user


def token_session(session: Session, *, claims: AccessClaims) -> tuple[UserSession, User] | None:
    """The live session an access token names, or ``None``.

    Refused as well: tokens issued before the user's last password change, even if their
    session survived (the session that changed the password gets new tokens).
    """
    found = repository.session_for_token(
        session, public_id=claims.session_id, user_id=claims.user_id
    )
    if found is None:
        return None
    row, user = found
    if row.expires_at <= utcnow() or not user.is_active:
        return None
    if claims.issued_at < int(user.password_changed_at.timestamp()):
        return None
    return row, user


def active_sessions(session: Session, *, user_id: int, limit: int = 50) -> list[UserSession]:
    """The user's live login sessions (browsers and API logins), most recently used first."""
    return repository.live_sessions(session, user_id, now=utcnow(), limit=limit)


def needs_touch(row: UserSession, now: datetime) -> bool:
    return now - row.last_seen_at >= TOUCH_INTERVAL


def end_session(session: Session, session_id: int) -> None:
    repository.delete_session(session, session_id)
