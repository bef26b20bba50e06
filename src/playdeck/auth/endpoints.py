"""``/api/auth/*`` (and the JWT login API's ``/auth/*`` spellings of login, register, refresh and
me)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from playdeck.account.service import pending_email
from playdeck.auth import password_change, registration, rotation, signin, signout
from playdeck.auth.attempt import Attempt
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import CredentialKind, Principal
from playdeck.auth.rate_limit import RateLimits
from playdeck.auth.schemas import (
    LoginRequest,
    LoginResponse,
    LogoutRequest,
    Me,
    PasswordChange,
    RefreshRequest,
    RegisterRequest,
    SetupRequest,
    TokenPair,
)
from playdeck.auth.sessions import IssuedLogin
from playdeck.auth.sessions import TokenPair as IssuedTokens
from playdeck.auth.setup_token import SetupProofDep
from playdeck.auth.transport import clear_session_cookie, cookie_secure, set_session_cookie
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep, SettingsDep
from playdeck.problems import OrjsonResponse, problem
from playdeck.twofactor.challenges import SecondFactorChallenge
from playdeck.users.schemas import User

router = APIRouter(prefix="/api/auth", tags=["auth"])
# The JWT login API's paths for the same handlers, kept out of the OpenAPI document.
legacy_router = APIRouter(prefix="/auth", tags=["auth"], include_in_schema=False)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def get_rate_limits(request: Request) -> RateLimits:
    limits: RateLimits = request.app.state.rate_limits
    return limits


RateLimitsDep = Annotated[RateLimits, Depends(get_rate_limits)]


def get_attempt(settings: SettingsDep, limits: RateLimitsDep, client: ClientDep) -> Attempt:
    return Attempt(settings=settings, limits=limits, client=client)


AttemptDep = Annotated[Attempt, Depends(get_attempt)]
Authenticated = Annotated[Principal, authorize(Permission.AUTHENTICATED)]
# Also open to an administrator who must enrol a second factor first (signing out, ``me``).
BeforeTwoFactor = Annotated[Principal, authorize(Permission.AUTHENTICATED, before_two_factor=True)]
SECOND_FACTOR_PATH = "/api/auth/login/two-factor"


def _tokens(tokens: IssuedTokens) -> dict[str, Any]:
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": "bearer",
        "expires_in": tokens.access_expires_in,
        "refresh_expires_in": tokens.refresh_expires_in,
    }


def _signed_in(issued: IssuedLogin, attempt: Attempt, *, status: int) -> OrjsonResponse:
    body = LoginResponse(
        **_tokens(issued.tokens), user=User.of(issued.user), csrf_token=issued.csrf_token
    )
    response = OrjsonResponse(body.model_dump(mode="json"), status_code=status, headers=NO_STORE)
    set_session_cookie(
        response,
        issued.session_secret,
        max_age=issued.cookie_max_age,
        secure=cookie_secure(attempt.settings, attempt.client),
    )
    return response


@router.post("/login", response_model=LoginResponse, dependencies=[authorize(Permission.PUBLIC)])
@legacy_router.post(
    "/login", response_model=LoginResponse, dependencies=[authorize(Permission.PUBLIC)]
)
def login(data: LoginRequest, session: SessionDep, attempt: AttemptDep) -> Response:
    """Sign in with ``{username, password}`` or ``{email, password}``: returns a token pair and
    sets the session cookie. 401 for any wrong name or password, 423 while locked, 429 when
    rate-limited. An account with two-factor authentication gets 401 ``two_factor_required``
    with a ``challenge`` to send to ``POST /api/auth/login/two-factor`` with a code."""
    issued = signin.login(session, attempt=attempt, data=data)
    if isinstance(issued, SecondFactorChallenge):
        return second_factor_required(issued)
    return _signed_in(issued, attempt, status=200)


def second_factor_required(challenge: SecondFactorChallenge) -> Response:
    """The password was right; the session waits for a code (docs/security.md)."""
    return problem(
        401,
        "Two-factor authentication is on for this account: send the challenge and a code "
        f"from the authenticator app (or a recovery code) to {SECOND_FACTOR_PATH}",
        code="two_factor_required",
        headers={**NO_STORE, "WWW-Authenticate": 'Bearer error="two_factor_required"'},
        extra={
            "challenge": challenge.token,
            "challenge_expires_in": challenge.expires_in,
            "two_factor_path": SECOND_FACTOR_PATH,
        },
    )


@router.post(
    "/setup",
    response_model=LoginResponse,
    status_code=201,
    dependencies=[authorize(Permission.PUBLIC)],
)
def setup(
    data: SetupRequest, session: SessionDep, attempt: AttemptDep, first_allowed: SetupProofDep
) -> Response:
    """Create the first administrator while no user exists (409 afterwards) and sign it in.
    From another machine than the server's, send the setup token from the server log in
    ``X-Setup-Token`` (403 ``setup_token_required`` without it)."""
    issued = registration.setup(session, attempt=attempt, data=data, first_allowed=first_allowed)
    return _signed_in(issued, attempt, status=201)


@router.post(
    "/register", response_model=User, status_code=201, dependencies=[authorize(Permission.PUBLIC)]
)
@legacy_router.post(
    "/register", response_model=User, status_code=201, dependencies=[authorize(Permission.PUBLIC)]
)
def register(
    data: RegisterRequest, session: SessionDep, attempt: AttemptDep, first_allowed: SetupProofDep
) -> User:
    """Self-registration, when ``PLAYDECK_ALLOW_REGISTRATION`` is on (403 otherwise). The
    first account of an empty instance becomes admin and needs what setup needs."""
    user = registration.register(session, attempt=attempt, data=data, first_allowed=first_allowed)
    return User.of(user)


@router.post("/refresh", response_model=TokenPair, dependencies=[authorize(Permission.PUBLIC)])
@legacy_router.post(
    "/refresh", response_model=TokenPair, dependencies=[authorize(Permission.PUBLIC)]
)
def refresh(
    data: RefreshRequest,
    session: SessionDep,
    settings: SettingsDep,
    limits: RateLimitsDep,
    client: ClientDep,
) -> Response:
    """Exchange a refresh token for a new pair. The old one is dead from this moment; presenting
    it again revokes every token of that login."""
    tokens = rotation.refresh(
        session,
        settings=settings,
        limits=limits,
        client=client,
        refresh_token=data.refresh_token,
    )
    return OrjsonResponse(_tokens(tokens), headers=NO_STORE)


@router.post("/logout", status_code=204)
def logout(
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: BeforeTwoFactor,
    data: LogoutRequest | None = None,
) -> Response:
    """End this session (cookie or token) and, if given, the refresh token's session."""
    signout.logout(
        session,
        principal=principal,
        refresh_token=data.refresh_token if data else None,
        client=client,
    )
    response = Response(status_code=204)
    clear_session_cookie(response, secure=cookie_secure(settings, client))
    return response


@router.post("/logout-all", status_code=204)
def logout_all(
    session: SessionDep, settings: SettingsDep, client: ClientDep, principal: Authenticated
) -> Response:
    """End every session and refresh token of the signed-in user, on every device."""
    signout.logout_all(session, principal=principal, client=client)
    response = Response(status_code=204)
    clear_session_cookie(response, secure=cookie_secure(settings, client))
    return response


@router.get("/me", response_model=Me)
@legacy_router.get("/me", response_model=Me)
def get_me(session: SessionDep, settings: SettingsDep, principal: BeforeTwoFactor) -> Me:
    """Who the caller is. With authentication off: ``authenticated: false``."""
    user = signin.current_user(session, principal)
    return Me(
        authenticated=settings.require_auth and principal.credential is not CredentialKind.NONE,
        auth_enabled=settings.require_auth,
        registration_enabled=settings.require_auth and settings.allow_registration,
        credential=principal.credential.value,
        role=principal.role.value if principal.role else None,
        is_superuser=principal.is_admin,
        user=User.of(user) if user else None,
        csrf_token=principal.csrf_token,
        pending_email=pending_email(session, user) if user else None,
        two_factor_enrolment_required=principal.must_enrol_two_factor,
    )


@router.post("/password", response_model=LoginResponse)
def change_password(
    data: PasswordChange, session: SessionDep, attempt: AttemptDep, principal: Authenticated
) -> Response:
    """Change your password. Every other session ends; this one continues in a fresh session:
    the new cookie and token pair returned here (credentials issued before no longer work)."""
    issued = password_change.change_password(
        session, attempt=attempt, principal=principal, data=data
    )
    return _signed_in(issued, attempt, status=200)
