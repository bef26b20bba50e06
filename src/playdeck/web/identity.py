"""``/login`` and ``/logout``: password sign-in for browsers.

Both call the services behind ``POST /api/auth/login`` and ``/api/auth/logout``, so rate limits,
lockout and the audit log behave exactly as for API clients, and a successful sign-in sets the
same session cookie the API login sets. Refusals are rendered as the form with a message, after
the request's transaction has settled (a recorded refusal, like a failed login, still commits
what it recorded; see ``web.errors.FormRefused``).

It also holds what every identity page shares (setup, register, the one-time links, the
second factor, the account's forms): ``Public``, ``PublicViewDep``, ``AttemptPostDep``, the
pre-session ``form_page`` and ``answered``, how a refused form page answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from playdeck.auth import signin, signout
from playdeck.auth.attempt import Attempt
from playdeck.auth.client import ClientInfo
from playdeck.auth.credentials import resolve_credentials
from playdeck.auth.endpoints import AttemptDep
from playdeck.auth.principal import GlobalRole, Principal
from playdeck.auth.schemas import LoginRequest
from playdeck.auth.sessions import IssuedLogin
from playdeck.auth.signin import INVALID_CREDENTIALS
from playdeck.auth.transport import clear_session_cookie, cookie_secure, set_session_cookie
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep, SettingsDep
from playdeck.errors import AppError, InvalidInput
from playdeck.settings import Settings
from playdeck.twofactor import enforcement
from playdeck.twofactor.challenges import SecondFactorChallenge
from playdeck.users import repository as users_repository
from playdeck.web import form_csrf
from playdeck.web.errors import Page
from playdeck.web.forms import FormPost, PostDep, refusals_on
from playdeck.web.redirects import safe_next
from playdeck.web.rendering import render, set_flash
from playdeck.web.sso_logout import after_logout

router = APIRouter()

# The identity pages are open to anyone: they are where a visitor without a session goes.
Public = Annotated[None, authorize(Permission.PUBLIC)]

# Pages with a form token or personal data are never stored by a cache.
NO_STORE = {"Cache-Control": "no-store"}
MAX_LOGIN_NAME = 254


def page_viewer(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    """Who is looking at a public page (login, setup, register), for the header and redirects.

    A credential that does not check out makes the visitor anonymous here instead of a 401: these
    pages are where such a visitor is sent.
    """
    if not settings.require_auth:
        return Principal.builtin_admin()
    try:
        return resolve_credentials(request, session, settings) or Principal.anonymous()
    except AppError:
        return Principal.anonymous()


ViewerDep = Annotated[Principal, Depends(page_viewer)]


@dataclass(frozen=True, slots=True)
class PublicView(FormPost):
    """What a public identity page shows its form with (sign in, setup, register, where a
    one-time link lands): a form's request, session, settings and the client its form cookie
    is set for, and who is looking (``page_viewer``)."""

    viewer: Principal


def public_view(post: PostDep, viewer: ViewerDep) -> PublicView:
    return PublicView(post.request, post.session, post.settings, post.links, post.client, viewer)


PublicViewDep = Annotated[PublicView, Depends(public_view)]


def public_page_on(post: FormPost, show: Callable[[PublicView, AppError], Response]) -> Page:
    """A public form page (``show``) as the page a refusal is shown on: to an anonymous
    visitor, in the error layer's reading session."""

    def page(session: Session, refusal: AppError) -> Response:
        anonymous = Principal.anonymous()
        view = PublicView(post.request, session, post.settings, post.links, post.client, anonymous)
        return show(view, refusal)

    return page


@dataclass(frozen=True, slots=True)
class AttemptPost(FormPost):
    """A form whose service weighs an attempt (``auth.attempt.Attempt``: the settings, the
    rate limits, the client): signing in, setting up, registering, a password or a second
    factor proved again."""

    attempt: Attempt


def attempt_post(post: PostDep, attempt: AttemptDep) -> AttemptPost:
    return AttemptPost(post.request, post.session, post.settings, post.links, post.client, attempt)


AttemptPostDep = Annotated[AttemptPost, Depends(attempt_post)]


def signed_in_redirect(
    issued: IssuedLogin, target: str, *, settings: Settings, client: ClientInfo
) -> RedirectResponse:
    """Go to ``target`` with the new session cookie (the API login's cookie, attribute for
    attribute); the pre-session form cookie has done its job."""
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    set_session_cookie(
        response,
        issued.session_secret,
        max_age=issued.cookie_max_age,
        secure=cookie_secure(settings, client),
    )
    form_csrf.clear_cookie(response, client=client, settings=settings)
    return response


def wait_text(seconds: int) -> str:
    """``45 seconds``, ``15 minutes``, ``2 hours``: how long a lock or a limit lasts."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{math.ceil(minutes / 60)} hours"


def retry_seconds(error: AppError) -> int | None:
    value = error.headers.get("Retry-After", "")
    return int(value) if value.isdigit() else None


def refusal_text(error: AppError) -> str:
    """What a person reads when the sign-in, setup or register service refuses."""
    wait = retry_seconds(error)
    if error.status == 423:
        return (
            "This account is temporarily locked after repeated failed sign-ins. "
            f"Try again in {wait_text(wait or 60)}."
        )
    if error.status == 429:
        return f"Too many attempts. Wait {wait_text(wait or 60)} and try again."
    if error.status == 401:
        return f"{INVALID_CREDENTIALS}."
    return error.detail


def refusal_headers(error: AppError) -> dict[str, str]:
    retry = error.headers.get("Retry-After")
    return {**NO_STORE, "Retry-After": retry} if retry else dict(NO_STORE)


def answered(refusal: AppError | None) -> dict[str, Any]:
    """A form page's status and headers (never cached): as first shown, or after ``refusal``
    with its status and its ``Retry-After``."""
    if refusal is None:
        return {"status_code": 200, "headers": dict(NO_STORE)}
    return {"status_code": refusal.status, "headers": refusal_headers(refusal)}


def setup_needed(session: Session) -> bool:
    return not users_repository.exists_any(session)


def disabled_page(
    request: Request, principal: Principal, *, what: str, status_code: int = 200
) -> HTMLResponse:
    """What the identity pages show while authentication is off: a notice, not a form."""
    return render(
        request,
        "identity/disabled.html",
        principal=principal,
        status_code=status_code,
        what=what,
    )


def disabled_post(post: FormPost, *, what: str) -> HTMLResponse:
    """What an identity form's post is answered with while authentication is off: the notice,
    as a 400 (there is no form to post)."""
    return disabled_page(post.request, Principal.builtin_admin(), what=what, status_code=400)


def form_page(
    request: Request,
    template: str,
    *,
    settings: Settings,
    client: ClientInfo,
    principal: Principal,
    refusal: AppError | None = None,
    **context: Any,
) -> HTMLResponse:
    """A pre-session form (sign in, setup, register) with its CSRF token and cookie; after a
    ``refusal``, with the refusal's status (and its ``Retry-After``)."""
    nonce, token = form_csrf.issue(request, settings)
    response = render(
        request,
        template,
        principal=principal,
        form_token=token,
        **answered(refusal),
        **context,
    )
    form_csrf.set_cookie(response, nonce, client=client, settings=settings)
    return response


def landing_page(issued: IssuedLogin) -> str:
    """Where a sign-in without ``next`` goes: the overview, or for a reporter (a CI identity
    that may read no results) its account page."""
    return "/account" if issued.user.role == GlobalRole.REPORTER else "/"


def after_sign_in(
    session: Session, settings: Settings, issued: IssuedLogin, next_path: str | None
) -> str:
    """Where a password sign-in goes: ``next``, or the landing page; an administrator held to
    enrolling a second factor goes to enrolment whatever ``next`` says."""
    if enforcement.must_enrol(session, settings, issued.user, sso_provider=None):
        return enforcement.ENROLMENT_PAGE
    return next_path or landing_page(issued)


def second_factor_page(
    post: FormPost,
    challenge: str,
    next_path: str | None,
    *,
    error: str | None = None,
    refusal: AppError | None = None,
) -> HTMLResponse:
    """The sign-in form's second step: the password was right, a code is asked for."""
    return form_page(
        post.request,
        "identity/two_factor.html",
        settings=post.settings,
        client=post.client,
        principal=Principal.anonymous(),
        refusal=refusal,
        challenge=challenge,
        next=next_path,
        error=error,
    )


@dataclass(slots=True)
class LoginForm:
    login: str = ""
    next: str | None = None
    error: str | None = None


def _login_page(
    view: PublicView, form: LoginForm, *, refusal: AppError | None = None
) -> HTMLResponse:
    settings = view.settings
    return form_page(
        view.request,
        "identity/login.html",
        settings=settings,
        client=view.client,
        principal=view.viewer,
        refusal=refusal,
        form=form,
        providers=settings.sso.providers,
        password_sign_in=settings.password_sign_in,
        registration=settings.allow_registration and settings.password_sign_in,
        setup_needed=setup_needed(view.session),
    )


@router.get("/login", response_class=HTMLResponse, response_model=None)
def show_login(
    view: PublicViewDep,
    _public: Public,
    next_path: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    target = safe_next(next_path)
    if not view.settings.require_auth:
        return disabled_page(view.request, view.viewer, what="Signing in")
    if view.viewer.is_authenticated:
        return RedirectResponse(target or "/", status_code=303)
    return _login_page(view, LoginForm(next=target))


def _login_page_on(post: FormPost, form: LoginForm) -> Page:
    def show(view: PublicView, refusal: AppError) -> Response:
        form.error = refusal_text(refusal)
        return _login_page(view, form, refusal=refusal)

    return public_page_on(post, show)


def _login_request(identifier: str, password: str) -> LoginRequest:
    """The API's login schema (sizes checked before any hashing)."""
    if not (identifier and password):
        raise InvalidInput("Enter your username or email and your password.")
    try:
        if "@" in identifier:
            return LoginRequest(email=identifier, password=password)
        return LoginRequest(username=identifier, password=password)
    except ValidationError:
        raise InvalidInput(f"{INVALID_CREDENTIALS}.") from None


@router.post("/login", response_class=HTMLResponse, response_model=None)
def sign_in(
    post: AttemptPostDep,
    _public: Public,
    login: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Sign in with a username or email and a password, then go back to ``next``."""
    request, session, settings, client = post.request, post.session, post.settings, post.client
    if not settings.require_auth:
        return disabled_post(post, what="Signing in")
    form = LoginForm(login=login.strip()[:MAX_LOGIN_NAME], next=safe_next(next_path))
    with refusals_on(_login_page_on(post, form)):
        form_csrf.check(request, settings, csrf_token)
        data = _login_request(form.login, password)
        issued = signin.login(session, attempt=post.attempt, data=data)
    if isinstance(issued, SecondFactorChallenge):
        return second_factor_page(post, issued.token, form.next)
    return signed_in_redirect(
        issued,
        after_sign_in(session, settings, issued, form.next),
        settings=settings,
        client=client,
    )


@router.post("/logout", response_model=None)
def sign_out(
    post: PostDep,
    principal: Annotated[Principal, authorize(Permission.AUTHENTICATED, before_two_factor=True)],
) -> Response:
    """End this browser's session (the form carries the session's CSRF token); a session
    that came through single sign-on then signs out at the provider too, where it can."""
    session, settings, client = post.session, post.settings, post.client
    if not settings.require_auth:
        return RedirectResponse("/", status_code=303)
    provider_logout = after_logout(post, principal)
    signout.logout(session, principal=principal, refresh_token=None, client=client)
    response = RedirectResponse(provider_logout or "/login", status_code=303, headers=NO_STORE)
    clear_session_cookie(response, secure=cookie_secure(settings, client))
    set_flash(response, "signed-out")
    return response
