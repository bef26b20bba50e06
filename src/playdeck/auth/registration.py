"""Accounts made through auth: the first administrator (setup, which also signs it in) and
self-registration. Both create the user through ``users.service.create_user``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from playdeck.audit.service import ANONYMOUS, Action, Actor, Trail
from playdeck.auth import sessions
from playdeck.auth.attempt import Attempt, ensure_enabled
from playdeck.auth.schemas import RegisterRequest, SetupRequest
from playdeck.auth.sessions import IssuedLogin
from playdeck.errors import Forbidden
from playdeck.kit.clock import utcnow
from playdeck.models import User
from playdeck.users import repository as users
from playdeck.users import service as users_service


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
