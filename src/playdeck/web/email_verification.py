"""``/verify-email``: where an email-verification link lands (``account.service``).

A public page: the token is the credential, so it works in whichever browser the mail is
opened. Opening the link only shows the address; the button (a POST carrying the token and the
pre-session form token) verifies it, so a mail scanner that fetches links verifies nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from playdeck.account import service
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import Principal
from playdeck.errors import AppError
from playdeck.settings import Settings
from playdeck.web import form_csrf
from playdeck.web.errors import Page
from playdeck.web.forms import done, refusals_on
from playdeck.web.identity import (
    AttemptPostDep,
    Public,
    PublicViewDep,
    ViewerDep,
    disabled_page,
    form_page,
    refusal_text,
)

router = APIRouter()
TEMPLATE = "account/verify_email.html"


@dataclass(slots=True)
class VerifyForm:
    token: str
    email: str | None = None
    username: str | None = None
    error: str | None = None
    usable: bool = True  # false: the link itself was refused


def _render(
    request: Request,
    settings: Settings,
    client: ClientInfo,
    principal: Principal,
    form: VerifyForm,
    refusal: AppError | None = None,
) -> HTMLResponse:
    """The page, or with ``refusal``: its message (and no button when the link is the problem)."""
    if refusal is not None:
        form.error = refusal_text(refusal)
        form.usable = refusal.code != "link_invalid"
    return form_page(
        request,
        TEMPLATE,
        settings=settings,
        client=client,
        principal=principal,
        refusal=refusal,
        form=form,
    )


def _page_on(
    request: Request, settings: Settings, client: ClientInfo, principal: Principal, form: VerifyForm
) -> Page:
    return lambda _session, refusal: _render(request, settings, client, principal, form, refusal)


def _look(session: Session, form: VerifyForm) -> None:
    link, user = service.check_link(session, token=form.token)
    form.email, form.username = link.email, user.username


@router.get("/verify-email", response_class=HTMLResponse, response_model=None)
def show_verification(
    view: PublicViewDep, _public: Public, token: Annotated[str, Query(max_length=100)] = ""
) -> Response:
    """The address the link proves, and the button that confirms it."""
    request, settings, client, principal = view.request, view.settings, view.client, view.viewer
    if not settings.require_auth:
        return disabled_page(request, principal, what="Accounts")
    form = VerifyForm(token=token)
    with refusals_on(_page_on(request, settings, client, principal, form)):
        _look(view.session, form)
    return _render(request, settings, client, principal, form)


@router.post("/verify-email", response_class=HTMLResponse, response_model=None)
def confirm_verification(
    post: AttemptPostDep,
    principal: ViewerDep,
    _public: Public,
    token: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Verify the address; then the account page (or sign in, in another browser)."""
    request, session, settings, client = post.request, post.session, post.settings, post.client
    if not settings.require_auth:
        return disabled_page(request, principal, what="Accounts", status_code=400)
    form = VerifyForm(token=token)
    with refusals_on(_page_on(request, settings, client, principal, form)):
        _look(session, form)
        form_csrf.check(request, settings, csrf_token)
        service.verify_email(session, attempt=post.attempt, token=token)
    return done("/account" if principal.user_id is not None else "/login", "email-verified")
