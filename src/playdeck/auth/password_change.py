"""Changing one's own password, and the current-password check other self-service changes ask
for too (``account.service``).

A wrong current password is refused with ``commit=True``: its audit event is committed before
the 403 is rendered.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Trail
from playdeck.auth import repository, sessions
from playdeck.auth.attempt import Attempt, ensure_enabled
from playdeck.auth.client import ClientInfo
from playdeck.auth.passwords import verify_and_update
from playdeck.auth.principal import Principal
from playdeck.auth.schemas import PasswordChange
from playdeck.auth.sessions import IssuedLogin
from playdeck.auth.signin import current_account
from playdeck.authz.service import require_password_sign_in
from playdeck.errors import Forbidden
from playdeck.models import User
from playdeck.users import service as users_service


def check_current_password(
    session: Session,
    *,
    principal: Principal,
    user: User,
    password: str | None,
    client: ClientInfo,
    failed: Action,
    **details: object,
) -> None:
    """403 ``invalid_current_password`` unless ``password`` is the user's; the refusal commits
    its audit event ``failed`` (with ``details``)."""
    if password is None or not verify_and_update(password, user.password_hash)[0]:
        Trail.of(session, principal, client).refused(failed, user, **details)
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
    user = current_account(session, principal)
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
