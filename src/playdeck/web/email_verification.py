"""``/verify-email``: where an email-verification link lands (``account.service``).

A public page: the token is the credential, so it works in whichever browser the mail is
opened. Opening the link only shows the address; the button (a POST carrying the token and the
pre-session form token) verifies it, so a mail scanner that fetches links verifies nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from playdeck.account import service
from playdeck.auth.principal import Principal
from playdeck.errors import AppError
from playdeck.web import form_csrf
from playdeck.web.errors import Page
from playdeck.web.forms import FormPost, done, refusals_on
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
    view: FormPost, principal: Principal, form: VerifyForm, refusal: AppError | None = None
) -> HTMLResponse:
    """The page, or with ``refusal``: its message (and no button when the link is the problem)."""
    if refusal is not None:
        form.error = refusal_text(refusal)
        form.usable = refusal.code != "link_invalid"
    return form_page(
        view.request,
        TEMPLATE,
        settings=view.settings,
        client=view.client,
        principal=principal,
        refusal=refusal,
        form=form,
    )


def _page_on(post: FormPost, principal: Principal, form: VerifyForm) -> Page:
    """The page showing the refusal; it loads nothing, ``form`` holds what it shows."""
    return lambda _session, refusal: _render(post, principal, form, refusal)


def _look(session: Session, form: VerifyForm) -> None:
    link, user = service.check_link(session, token=form.token)
    form.email, form.username = link.email, user.username


@router.get("/verify-email", response_class=HTMLResponse, response_model=None)
def show_verification(
    view: PublicViewDep, _public: Public, token: Annotated[str, Query(max_length=100)] = ""
) -> Response:
    """The address the link proves, and the button that confirms it."""
    if not view.settings.require_auth:
        return disabled_page(view.request, view.viewer, what="Accounts")
    form = VerifyForm(token=token)
    with refusals_on(_page_on(view, view.viewer, form)):
        _look(view.session, form)
    return _render(view, view.viewer, form)


@router.post("/verify-email", response_class=HTMLResponse, response_model=None)
def confirm_verification(
    post: AttemptPostDep,
    principal: ViewerDep,
    _public: Public,
    token: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Verify the address; then the account page (or sign in, in another browser)."""
    if not post.settings.require_auth:
        return disabled_page(post.request, principal, what="Accounts", status_code=400)
    form = VerifyForm(token=token)
    with refusals_on(_page_on(post, principal, form)):
        _look(post.session, form)
        form_csrf.check(post.request, post.settings, csrf_token)
        service.verify_email(post.session, attempt=post.attempt, token=token)
    return done("/account" if principal.user_id is not None else "/login", "email-verified")
