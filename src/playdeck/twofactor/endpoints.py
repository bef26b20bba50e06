"""``/api/auth/login/two-factor``, ``/api/auth/two-factor/*`` (one's own second factor) and
``DELETE /api/admin/users/{id}/two-factor`` (an administrator's reset)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Response

from playdeck.audit.service import Actor
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.endpoints import AttemptDep, _signed_in
from playdeck.auth.principal import Principal
from playdeck.auth.schemas import LoginResponse
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep, SettingsDep
from playdeck.twofactor import service, signin
from playdeck.twofactor.schemas import (
    CodeConfirmation,
    Enrolment,
    PasswordConfirmation,
    RecoveryCodes,
    SecondFactorLogin,
    TwoFactorStatus,
)
from playdeck.users import service as users_service
from playdeck.users.endpoints import UserId

router = APIRouter(tags=["auth"])

Enrolling = Annotated[Principal, authorize(Permission.AUTHENTICATED, before_two_factor=True)]
SignedIn = Annotated[Principal, authorize(Permission.AUTHENTICATED)]
Admin = Annotated[Principal, authorize(Permission.USERS_ADMIN)]


@router.post(
    "/api/auth/login/two-factor",
    response_model=LoginResponse,
    dependencies=[authorize(Permission.PUBLIC)],
)
def login_two_factor(data: SecondFactorLogin, session: SessionDep, attempt: AttemptDep) -> Response:
    """Complete a sign-in that answered 401 ``two_factor_required``: its ``challenge`` and a
    code from the authenticator app, or a recovery code. Returns what ``/api/auth/login``
    returns. Wrong codes count toward the lockout (423) and the login rate limits (429)."""
    answer = signin.SecondFactor(challenge=data.challenge, code=data.code)
    issued = signin.complete(session, attempt=attempt, answer=answer)
    return _signed_in(issued, attempt, status=200)


@router.get("/api/auth/two-factor", response_model=TwoFactorStatus)
def get_two_factor(
    session: SessionDep, settings: SettingsDep, principal: Enrolling
) -> TwoFactorStatus:
    """Whether two-factor authentication is on for you, and how many recovery codes are left."""
    user = service.own_account(session, settings=settings, principal=principal)
    return TwoFactorStatus(**asdict(service.status(session, settings=settings, user=user)))


@router.post("/api/auth/two-factor/enrol", response_model=Enrolment)
def start_enrolment(
    data: PasswordConfirmation, session: SessionDep, attempt: AttemptDep, principal: Enrolling
) -> Enrolment:
    """Start enrolment (your password again): the key to add to an authenticator app. Nothing
    changes at sign-in until ``/confirm`` receives a code from it."""
    started = service.start_enrolment(
        session, attempt=attempt, principal=principal, password=data.password
    )
    return Enrolment(secret=started.secret, otpauth_uri=started.uri)


@router.post("/api/auth/two-factor/confirm", response_model=RecoveryCodes)
def confirm_enrolment(
    data: CodeConfirmation, session: SessionDep, attempt: AttemptDep, principal: Enrolling
) -> RecoveryCodes:
    """Turn two-factor authentication on with a code from the app; returns ten recovery codes,
    shown this once."""
    codes = service.confirm_enrolment(session, attempt=attempt, principal=principal, code=data.code)
    return RecoveryCodes(recovery_codes=codes)


@router.post("/api/auth/two-factor/recovery-codes", response_model=RecoveryCodes)
def regenerate_recovery_codes(
    data: PasswordConfirmation, session: SessionDep, attempt: AttemptDep, principal: SignedIn
) -> RecoveryCodes:
    """Ten new recovery codes (your password again); the earlier ones stop working."""
    codes = service.regenerate_recovery_codes(
        session, attempt=attempt, principal=principal, password=data.password
    )
    return RecoveryCodes(recovery_codes=codes)


@router.post("/api/auth/two-factor/disable", status_code=204)
def disable(
    data: PasswordConfirmation, session: SessionDep, attempt: AttemptDep, principal: SignedIn
) -> Response:
    """Turn two-factor authentication off (your password again). 409 for an administrator
    while the server requires it of administrators."""
    service.disable(session, attempt=attempt, principal=principal, password=data.password)
    return Response(status_code=204)


@router.delete("/api/admin/users/{user_id}/two-factor", status_code=204, tags=["admin"])
def reset_two_factor(
    user_id: UserId, session: SessionDep, client: ClientDep, principal: Admin
) -> Response:
    """Remove a user's second factor and recovery codes (they lost them): they sign in with
    their password alone, and may enrol again. Audited as ``two_factor.reset``."""
    user = users_service.get_user(session, user_id=user_id)
    service.reset(session, user=user, actor=Actor.of(principal), client=client)
    return Response(status_code=204)
