"""Self-service API beside ``GET /api/auth/me``: change your profile (``PATCH``), list and end
your sessions, and use an email-verification link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from playdeck.account import service, sessions
from playdeck.account.schemas import (
    EmailVerified,
    EmailVerify,
    LoginSession,
    ProfileChanged,
    ProfileUpdate,
)
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.endpoints import NO_STORE, AttemptDep, Authenticated
from playdeck.auth.transport import clear_session_cookie
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import BaseUrlDep, SessionDep, SettingsDep
from playdeck.users.schemas import User

router = APIRouter(prefix="/api/auth", tags=["auth"])

PublicId = Annotated[str, Path(min_length=1, max_length=64)]


@router.patch("/me", response_model=ProfileChanged)
def update_me(
    data: ProfileUpdate,
    links: BaseUrlDep,
    response: Response,
    session: SessionDep,
    attempt: AttemptDep,
    principal: Authenticated,
) -> ProfileChanged:
    """Change your display name (``name``) and email. A new email stays pending until the link
    mailed to it is used; it needs ``current_password`` when the account has one. 409
    ``user_exists`` when another account uses the address."""
    changed = service.update_profile(
        session,
        attempt=attempt,
        principal=principal,
        data=data,
        base_url=links,
    )
    response.headers.update(NO_STORE)
    return ProfileChanged(
        user=User.of(changed.user),
        pending_email=changed.pending_email,
        verification_mailed=changed.mailed,
    )


@router.get("/sessions", response_model=list[LoginSession])
def list_sessions(
    response: Response, session: SessionDep, principal: Authenticated
) -> list[LoginSession]:
    """Your live sessions (browsers and API sign-ins), most recently used first; ``current``
    marks the one this request came with."""
    response.headers.update(NO_STORE)
    rows = sessions.list_sessions(session, principal=principal)
    return [LoginSession.of(row, current_id=principal.session_id) for row in rows]


@router.delete("/sessions/{public_id}", status_code=204)
def end_session(
    public_id: PublicId,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: Authenticated,
) -> Response:
    """End one of your sessions: its cookie and tokens stop working at once. Ending the current
    one signs this client out. 404 for an id that is not one of your live sessions."""
    current = sessions.end_session(session, principal=principal, public_id=public_id, client=client)
    response = Response(status_code=204)
    if current:
        clear_session_cookie(response, secure=settings.cookie_secure or client.is_https)
    return response


@router.post(
    "/verify-email", response_model=EmailVerified, dependencies=[authorize(Permission.PUBLIC)]
)
def verify_email(data: EmailVerify, session: SessionDep, attempt: AttemptDep) -> EmailVerified:
    """Use an email-verification link's token: its address becomes the account's verified
    email. 404 ``link_invalid`` for an unknown, used or expired token."""
    user = service.verify_email(session, attempt=attempt, token=data.token)
    return EmailVerified(email=user.email or "")
