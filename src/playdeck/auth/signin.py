"""Password sign-in: its refusals, the failure count and lockout, and the session it starts.

Refusals that must leave a trace (failure counters, lock, audit event) are raised
``.recorded()`` (``AppError(commit=True)``): the request's session dependency commits what they
recorded before the error is rendered. Other errors roll everything back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy.orm import Session

from playdeck.audit import service as audit
from playdeck.audit.service import Action, Trail
from playdeck.auth import sessions
from playdeck.auth.attempt import Attempt, ensure_enabled
from playdeck.auth.client import ClientInfo
from playdeck.auth.passwords import verify_and_update, verify_dummy
from playdeck.auth.principal import Principal
from playdeck.auth.rate_limit import RateLimits, account_key, locked_error
from playdeck.auth.schemas import LoginRequest
from playdeck.auth.sessions import IssuedLogin
from playdeck.errors import Forbidden, NotFound, Unauthorized
from playdeck.kit.clock import utcnow
from playdeck.models import User
from playdeck.observability.metrics import LOGIN_FAILURES
from playdeck.settings import Settings
from playdeck.twofactor import challenges
from playdeck.twofactor.challenges import SecondFactorChallenge
from playdeck.users import repository as users

logger = logging.getLogger("playdeck.auth")

INVALID_CREDENTIALS = "Invalid username or password"


DEACTIVATED = "This account has been deactivated. Ask an administrator to reactivate it."


def _invalid_credentials() -> Unauthorized:
    return Unauthorized(INVALID_CREDENTIALS, code="invalid_credentials")


def login(
    session: Session,
    *,
    attempt: Attempt,
    data: LoginRequest,
) -> IssuedLogin | SecondFactorChallenge:
    """Check a password login. Order matters: rate limits, then the lock, then the (slow) hash.

    Unknown names and wrong passwords give the same 401 after the same work (a dummy hash for
    unknown names); a locked name gives 423 whether or not it exists. A deactivated account
    with its right password gets 403 ``account_deactivated``, and only then.

    An account with two-factor authentication gets a challenge instead of a session
    (``twofactor.signin.complete`` answers it). Its failure count is not reset by the right
    password: only a right second factor resets it, so wrong codes add up to the lockout
    however often the password is typed again.
    """
    settings, limits, client = attempt.settings, attempt.limits, attempt.client
    identifier, password = data.identifier, data.password
    ensure_enabled(settings)
    if not settings.password_sign_in_allowed(identifier):
        raise Forbidden(
            "Password sign-in is turned off: sign in through your organisation's provider",
            code="password_sign_in_disabled",
        )
    limits.check_login(ip=client.ip, identifier=identifier)
    users.claim_sqlite_write_lock(session)
    user = users.find_by_login(session, identifier, email_first=data.username is None)
    if user is None:
        _refuse_unknown(
            session, limits=limits, client=client, identifier=identifier, password=password
        )
    now = utcnow()
    if user.locked_until is not None and user.locked_until > now:
        LOGIN_FAILURES.labels(reason="locked").inc()
        audit.record_refusal(
            session,
            Action.LOGIN_BLOCKED,
            target=user,
            client=client,
        )
        raise locked_error(user.locked_until.timestamp()).recorded()
    valid, new_hash = verify_and_update(password, user.password_hash)
    if not valid or not user.is_active:
        _refuse_known(session, settings=settings, client=client, user=user, now=now, valid=valid)
    if new_hash is not None:
        user.password_hash = new_hash  # transparently upgraded to argon2id
    if challenges.required(session, user):
        return challenges.begin(session, user=user)
    return signed_in(session, attempt=attempt, user=user, now=now, rehashed=new_hash is not None)


def signed_in(
    session: Session,
    *,
    attempt: Attempt,
    user: User,
    now: datetime,
    sso_provider: str | None = None,
    **details: object,
) -> IssuedLogin:
    """A sign-in that passed every check (a password, a second factor, a provider's word): the
    failure count starts over, a session starts, and the audit log says so (``details``: how it
    was proved)."""
    users.record_success(session, user.id, at=now)
    issued = sessions.start_session(
        session,
        user=user,
        settings=attempt.settings,
        client=attempt.client,
        sso_provider=sso_provider,
    )
    trail = Trail.own(session, user, attempt.client)
    trail.record(Action.LOGIN_SUCCEEDED, user, session_id=issued.session_id, **details)
    return issued


def _refuse_unknown(
    session: Session, *, limits: RateLimits, client: ClientInfo, identifier: str, password: str
) -> NoReturn:
    fingerprint = account_key(identifier)[:16]
    locked_until = limits.unknown_account_lock(identifier)
    if locked_until is not None:
        LOGIN_FAILURES.labels(reason="locked").inc()
        audit.record_refusal(
            session,
            Action.LOGIN_BLOCKED,
            client=client,
            details={"unknown_name": fingerprint},
        )
        raise locked_error(locked_until).recorded()
    verify_dummy(password)
    locked_now = limits.record_unknown_failure(identifier)
    LOGIN_FAILURES.labels(reason="unknown_user").inc()
    audit.record_refusal(
        session,
        Action.LOGIN_FAILED,
        client=client,
        details={"reason": "unknown_user", "unknown_name": fingerprint},
    )
    if locked_now:
        audit.record_refusal(
            session,
            Action.LOGIN_LOCKED_OUT,
            client=client,
            details={"unknown_name": fingerprint},
        )
    raise _invalid_credentials().recorded()


def _refuse_known(
    session: Session,
    *,
    settings: Settings,
    client: ClientInfo,
    user: User,
    now: datetime,
    valid: bool,
) -> NoReturn:
    record_failed_login(
        session,
        settings=settings,
        client=client,
        user=user,
        now=now,
        reason="inactive" if valid else "wrong_password",
    )
    if valid:
        # Said only to whoever typed the right password: for them the account's existence is
        # no secret, and an active account's right password tells as much by signing in.
        # Everyone else gets the same 401 as for a wrong password or an unknown name.
        raise Forbidden(DEACTIVATED, code="account_deactivated").recorded()
    raise _invalid_credentials().recorded()


def record_failed_login(
    session: Session,
    *,
    settings: Settings,
    client: ClientInfo,
    user: User,
    now: datetime,
    reason: str,
) -> None:
    """Count one failed sign-in of a known account (a wrong password or second factor), and
    lock it at ``lockout_attempts``; audited. The caller raises its refusal ``.recorded()``."""
    failures = users.record_failure(session, user.id)
    LOGIN_FAILURES.labels(reason=reason).inc()
    audit.record_refusal(
        session,
        Action.LOGIN_FAILED,
        target=user,
        client=client,
        details={"reason": reason, "failures": failures},
    )
    if failures >= settings.lockout_attempts:
        until = now + timedelta(minutes=settings.lockout_minutes)
        users.lock(session, user.id, until=until)
        audit.record_refusal(
            session,
            Action.LOGIN_LOCKED_OUT,
            target=user,
            client=client,
            details={"locked_until": until.isoformat(), "failures": failures},
        )
        logger.warning("account %s locked after %s failed logins", user.id, failures)


def current_user(session: Session, principal: Principal) -> User | None:
    return users.get(session, principal.user_id) if principal.user_id is not None else None


def current_account(session: Session, principal: Principal) -> User:
    """The caller's own account, for what only an account has (a profile, a password, an
    authenticator): 404 when the caller has none (authentication off) or it is gone."""
    user = current_user(session, principal)
    if user is None:
        raise NotFound("User not found")
    return user
