"""Login, setup, registration, refresh, logout and password change.

Refusals that must leave a trace (failure counters, lock, audit event, a revoked token family)
are raised ``.recorded()`` (``AppError(commit=True)``): the request's session dependency commits
what they recorded before the error is rendered. Other errors roll everything back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy.orm import Session

from playdeck.audit import service as audit
from playdeck.audit.service import ANONYMOUS, Action, Actor, Trail
from playdeck.auth import repository, sessions
from playdeck.auth.client import ClientInfo
from playdeck.auth.passwords import verify_and_update, verify_dummy
from playdeck.auth.principal import Principal
from playdeck.auth.rate_limit import RateLimits, account_key, locked_error
from playdeck.auth.schemas import LoginRequest, PasswordChange, RegisterRequest, SetupRequest
from playdeck.auth.sessions import IssuedLogin, TokenPair
from playdeck.auth.tokens import hash_secret, successor_refresh_token
from playdeck.authz.service import require_password_sign_in
from playdeck.errors import BadRequest, Forbidden, NotFound, Unauthorized
from playdeck.kit.clock import utcnow
from playdeck.models import RefreshToken, User, UserSession
from playdeck.observability.metrics import LOGIN_FAILURES
from playdeck.settings import Settings
from playdeck.twofactor import challenges
from playdeck.twofactor.challenges import SecondFactorChallenge
from playdeck.users import repository as users
from playdeck.users import service as users_service

logger = logging.getLogger("playdeck.auth")

INVALID_CREDENTIALS = "Invalid username or password"


DEACTIVATED = "This account has been deactivated. Ask an administrator to reactivate it."


def _invalid_credentials() -> Unauthorized:
    return Unauthorized(INVALID_CREDENTIALS, code="invalid_credentials")


def _invalid_refresh() -> Unauthorized:
    return Unauthorized("Invalid or expired refresh token", code="invalid_refresh_token")


def ensure_enabled(settings: Settings) -> None:
    if not settings.require_auth:
        raise BadRequest("authentication is disabled", code="auth_disabled")


@dataclass(frozen=True, slots=True)
class Attempt:
    """Who is asking, from where, under which rules: what every sign-in, setup, registration
    and password change is checked against (the settings, the rate limits, the client)."""

    settings: Settings
    limits: RateLimits
    client: ClientInfo


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


def setup(
    session: Session,
    *,
    attempt: Attempt,
    data: SetupRequest,
    first_allowed: bool,
) -> IssuedLogin:
    """Create the first administrator and sign it in; 409 once any user exists, 403 for a
    remote caller without the setup token (``first_allowed``, see ``auth.setup_token``)."""
    settings, limits, client = attempt.settings, attempt.limits, attempt.client
    ensure_enabled(settings)
    limits.check_sensitive("setup", ip=client.ip, account=data.username)
    user = users_service.create_user(
        session,
        settings=settings,
        username=data.username,
        password=data.password,
        email=data.email,
        display_name=data.name,
        role="admin",
        actor=Actor.system("setup"),
        client=client,
        via="setup",
        only_if_first=True,
        first_allowed=first_allowed,
    )
    Trail.own(session, user, client).record(Action.SETUP_COMPLETED, user)
    users.record_success(session, user.id, at=utcnow())
    return sessions.start_session(session, user=user, settings=settings, client=client)


def register(
    session: Session,
    *,
    attempt: Attempt,
    data: RegisterRequest,
    first_allowed: bool,
) -> User:
    """Self-registration (role ``user``; the very first account of an empty instance is admin,
    and needs ``first_allowed``: local, or the setup token).

    A taken username or email answers 409 with one generic message for both.
    """
    settings, limits, client = attempt.settings, attempt.limits, attempt.client
    ensure_enabled(settings)
    if not (settings.allow_registration and settings.password_sign_in):
        raise Forbidden("Registration is disabled", code="registration_disabled")
    limits.check_register(ip=client.ip, email=data.email)
    user = users_service.create_user(
        session,
        settings=settings,
        username=data.username or data.email.strip().lower(),
        password=data.password,
        email=data.email,
        display_name=data.full_name,
        role="user",
        actor=ANONYMOUS,
        client=client,
        via="registration",
        first_becomes_admin=True,
        first_allowed=first_allowed,
        email_verified=False,  # anyone may type any address here
    )
    Trail.own(session, user, client).record(Action.USER_REGISTERED, user)
    return user


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


def check_current_password(
    session: Session,
    *,
    principal: Principal,
    user: User,
    password: str | None,
    client: ClientInfo,
    failed: Action,
) -> None:
    """403 ``invalid_current_password`` unless ``password`` is the user's; the refusal commits
    its audit event ``failed``."""
    if password is None or not verify_and_update(password, user.password_hash)[0]:
        Trail.of(session, principal, client).refused(failed, user)
        raise Forbidden(
            "Current password is incorrect", code="invalid_current_password", commit=True
        )


def change_password(
    session: Session,
    *,
    attempt: Attempt,
    principal: Principal,
    data: PasswordChange,
) -> IssuedLogin:
    """Change one's own password. Every session of the user ends, this one included, and the
    caller gets a fresh session (new cookie, new token pair): nothing issued before the change,
    not even in the same second, keeps working, and the session id rotates."""
    settings, limits, client = attempt.settings, attempt.limits, attempt.client
    ensure_enabled(settings)
    require_password_sign_in(principal, to="change it")
    limits.check_sensitive("password", ip=client.ip, account=str(principal.user_id))
    user = users.get(session, principal.user_id) if principal.user_id is not None else None
    if user is None:
        raise NotFound("User not found")
    users_service.check_new_password(user=user, password=data.new_password, settings=settings)
    check_current_password(
        session,
        principal=principal,
        user=user,
        password=data.current_password,
        client=client,
        failed=Action.PASSWORD_CHANGE_FAILED,
    )
    users_service.set_password(session, user=user, password=data.new_password, settings=settings)
    ended = repository.delete_user_sessions(session, user.id)
    issued = sessions.start_session(session, user=user, settings=settings, client=client)
    Trail.of(session, principal, client).record(
        Action.PASSWORD_CHANGED,
        user,
        other_sessions_ended=max(0, ended - 1),
        session_id=issued.session_id,
    )
    return issued


def current_user(session: Session, principal: Principal) -> User | None:
    return users.get(session, principal.user_id) if principal.user_id is not None else None
