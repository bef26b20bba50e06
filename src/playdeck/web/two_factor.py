"""``/account/two-factor``: turning a second factor on and off, recovery codes (an
administrator's reset of someone else's is one of the users list's actions,
``web.admin_user_actions``).

Each form calls the service behind the matching ``/api/auth/two-factor`` route. Enrolment is
post-redirect-get: the password starts it, the page then shows the key until a code confirms
it. Recovery codes are rendered once, by the post that created them, never stored for a page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Concatenate, ParamSpec, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from playdeck.auth import signin
from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.errors import AppError
from playdeck.twofactor import service
from playdeck.web.errors import Page
from playdeck.web.forms import (
    NO_STORE,
    done,
    page_on,
    refusals_on,
)
from playdeck.web.identity import AttemptPost, AttemptPostDep, answered
from playdeck.web.rendering import render
from playdeck.web.views import PageView, SignedIn, ViewDep

router = APIRouter()

T = TypeVar("T")
P = ParamSpec("P")
PAGE = "/account/two-factor"
Enrolling = Annotated[Principal, authorize(Permission.AUTHENTICATED, before_two_factor=True)]
PasswordField = Annotated[str, Form(max_length=1024)]


def _page(view: PageView, principal: Principal, refusal: AppError | None = None) -> HTMLResponse:
    session, settings = view.session, view.settings
    user = signin.current_user(session, principal)
    state = service.status(session, settings=settings, user=user) if user else None
    pending = (
        service.pending_enrolment(session, settings=settings, user=user)
        if user is not None and state is not None and state.pending
        else None
    )
    return render(
        view.request,
        "account/two_factor.html",
        principal=principal,
        auth_enabled=settings.require_auth,
        state=state,
        enrolment=pending,
        must_enrol=principal.must_enrol_two_factor,
        error=refusal.detail if refusal else None,
        **answered(refusal),
    )


def _page_on(view: PageView, principal: Principal) -> Page:
    return page_on(view, lambda reading, refusal: _page(reading, principal, refusal))


def _codes_page(request: Request, principal: Principal, codes: list[str], *, new: bool) -> Response:
    return render(
        request,
        "account/recovery_codes.html",
        principal=principal,
        headers=dict(NO_STORE),
        codes=codes,
        enabled_now=new,
    )


@router.get(PAGE, response_class=HTMLResponse)
def show_two_factor(view: ViewDep, principal: Enrolling) -> HTMLResponse:
    return _page(view, principal)


def _step(
    post: AttemptPost,
    principal: Principal,
    step: Callable[Concatenate[Session, P], T],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``step`` of the service in the form's session, with the rest of its arguments (checked
    against its signature); a refusal is shown on the page of ``principal``."""
    with refusals_on(_page_on(post, principal)):
        return step(post.session, *args, **kwargs)


@router.post(PAGE + "/enrol", response_model=None)
def start_enrolment(
    post: AttemptPostDep, principal: Enrolling, password: PasswordField = ""
) -> Response:
    """Start enrolment with the password; the page then shows the key to add to an app."""
    _step(
        post,
        principal,
        service.start_enrolment,
        attempt=post.attempt,
        principal=principal,
        password=password,
    )
    return done(PAGE, "two-factor-enrolment-started")


@router.post(PAGE + "/confirm", response_model=None)
def confirm_enrolment(
    post: AttemptPostDep, principal: Enrolling, code: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    """Turn it on with a first code; shows the recovery codes, once."""
    codes = _step(
        post,
        principal,
        service.confirm_enrolment,
        attempt=post.attempt,
        principal=principal,
        code=code,
    )
    return _codes_page(post.request, principal, codes, new=True)


@router.post(PAGE + "/recovery-codes", response_model=None)
def regenerate_recovery_codes(
    post: AttemptPostDep, principal: SignedIn, password: PasswordField = ""
) -> Response:
    """New recovery codes (the old ones stop working); shown once."""
    codes = _step(
        post,
        principal,
        service.regenerate_recovery_codes,
        attempt=post.attempt,
        principal=principal,
        password=password,
    )
    return _codes_page(post.request, principal, codes, new=False)


@router.post(PAGE + "/disable", response_model=None)
def disable(post: AttemptPostDep, principal: SignedIn, password: PasswordField = "") -> Response:
    """Turn it off with the password."""
    _step(
        post,
        principal,
        service.disable,
        attempt=post.attempt,
        principal=principal,
        password=password,
    )
    return done(PAGE, "two-factor-disabled")
