"""Resolve the request's credential (API key, bearer access token, session cookie) to a principal.

Order: an API key (``X-API-Key``, or a bearer value starting ``pd_``), then a bearer access token,
then the session cookie. A credential that was presented but does not check out is a 401 (with
``WWW-Authenticate: Bearer error="invalid_token"``) so clients know to refresh or log in again;
a stale cookie alone just leaves the caller anonymous. Lockout never applies here: a locked
account keeps its existing sessions, tokens and keys, so an attacker guessing passwords cannot
cut a CI pipeline off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from fastapi import Request
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from playdeck.apikeys.resolver import resolve_key
from playdeck.auth import repository, sessions
from playdeck.auth.csrf import check_origin, check_token, csrf_token, needs_token
from playdeck.auth.principal import CredentialKind, GlobalRole, Principal
from playdeck.auth.tokens import InvalidToken, decode_access_token
from playdeck.auth.transport import (
    MAX_CREDENTIAL_LENGTH,
    AmbiguousCredentials,
    bearer_token,
    check_single_credential,
    cookie_is_secure,
    presented_api_key,
    session_cookie,
)
from playdeck.db import after_commit
from playdeck.errors import BadRequest, Unauthorized
from playdeck.kit.clock import utcnow
from playdeck.kit.http import SAFE_METHODS
from playdeck.models import User, UserSession
from playdeck.settings import Settings
from playdeck.twofactor.enforcement import must_enrol

logger = logging.getLogger("playdeck.auth")

INVALID_TOKEN = 'Bearer error="invalid_token"'  # noqa: S105 - an RFC 6750 challenge

# (session, presented key) -> principal or None: the API-key issue's resolver.
ApiKeyResolver = Callable[[Session, str], Principal | None]
resolve_api_key: ApiKeyResolver = resolve_key


def _invalid(detail: str) -> Unauthorized:
    return Unauthorized(detail, code="invalid_token", headers={"WWW-Authenticate": INVALID_TOKEN})


def _principal(
    session: Session,
    settings: Settings,
    found: tuple[UserSession, User],
    kind: CredentialKind,
    csrf: str | None,
) -> Principal:
    row, user = found
    return Principal(
        user_id=user.id,
        username=user.username,
        role=GlobalRole(user.role),
        credential=kind,
        session_id=row.id,
        csrf_token=csrf,
        must_enrol_two_factor=must_enrol(session, settings, user, sso_provider=row.sso_provider),
    )


def _touch_later(session: Session, row: UserSession, now: datetime) -> None:
    """Record last-seen in its own short transaction after the request's commits.

    Keeps read-only requests read-only (SQLite has one writer), and a failure here only loses a
    timestamp, never the request.
    """
    if not sessions.needs_touch(row, now):
        return
    engine = session.get_bind()
    session_id = row.id

    def touch() -> None:
        if not isinstance(engine, Engine):
            return
        try:
            with Session(engine) as own:
                repository.touch_session(own, session_id, at=now)
                own.commit()
        except SQLAlchemyError:
            logger.debug("could not record last-seen of session %s", session_id, exc_info=True)

    after_commit(session, touch)


def _from_access_token(session: Session, token: str, settings: Settings) -> Principal:
    if len(token) > MAX_CREDENTIAL_LENGTH:
        raise _invalid("Invalid access token")
    try:
        claims = decode_access_token(token, secret=sessions.secret_of(settings))
    except InvalidToken as exc:
        logger.debug("access token refused: %s", exc)
        raise _invalid("Invalid or expired access token") from None
    found = sessions.token_session(session, claims=claims)
    if found is None:
        raise _invalid("Access token is no longer valid")
    _touch_later(session, found[0], utcnow())
    return _principal(session, settings, found, CredentialKind.ACCESS_TOKEN, None)


def _from_cookie(
    request: Request, session: Session, secret: str, settings: Settings, submitted: str | None
) -> Principal | None:
    if len(secret) > MAX_CREDENTIAL_LENGTH:
        return None
    found = sessions.cookie_session(session, secret=secret, settings=settings)
    if found is None:
        return None
    expected = csrf_token(secret_key=sessions.secret_of(settings), session_secret=secret)
    if request.method not in SAFE_METHODS:
        check_origin(request, public_url=settings.public_url)
        if needs_token(request):
            check_token(expected=expected, submitted=submitted)
    _touch_later(session, found[0], utcnow())
    return _principal(session, settings, found, CredentialKind.SESSION, expected)


def resolve_credentials(
    request: Request, session: Session, settings: Settings, submitted_csrf: str | None = None
) -> Principal | None:
    """The authenticated principal, ``None`` for an anonymous caller; raises 401/403 on a bad
    credential or a cookie request that fails the CSRF checks, 400 for two credentials."""
    try:
        check_single_credential(request)
    except AmbiguousCredentials:
        raise BadRequest(
            "Send one credential: an API key or a bearer token, once",
            code="ambiguous_credentials",
        ) from None
    api_key = presented_api_key(request)
    if api_key is not None:
        principal = resolve_api_key(session, api_key) if api_key else None
        if principal is None:
            # Never falls back to a token or cookie sent along: the key decides alone.
            raise _invalid("Invalid or expired API key")
        return principal
    token = bearer_token(request)
    if token is not None:
        return _from_access_token(session, token, settings)
    secure = cookie_is_secure(request, settings.trusted_proxies, settings.cookie_secure)
    cookie = session_cookie(request, secure=secure)
    if cookie:
        return _from_cookie(request, session, cookie, settings, submitted_csrf)
    return None
