"""``/invite`` and ``/reset-password``: where a one-time link lands (``invitations``).

Public pages: the token is the credential. The form carries it back in a hidden field; the
services behind ``POST /api/auth/invitations/accept`` and ``/api/auth/password-reset`` do the
rest, so rate limits, the password policy and the audit log are the API's. A refusal shows the
form again with the message, and leaves the link usable.

The invitation page also offers each single-sign-on provider: ``POST
/auth/sso/{provider}/invitation`` checks the link and goes to the provider with the invitation
bound to that sign-in (``web.sso.redirect_to_provider``); the callback makes the account.
While password sign-in is off, the provider is the only way in and the password form is gone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import Field

from playdeck.auth.principal import Principal
from playdeck.errors import AppError
from playdeck.invitations import service
from playdeck.invitations.purpose import LinkPurpose
from playdeck.invitations.schemas import InvitationAccept, PasswordResetWithLink
from playdeck.web import form_csrf
from playdeck.web.errors import Page
from playdeck.web.forms import FormPost, PostDep, parse_form, refusals_on
from playdeck.web.identity import (
    AttemptPostDep,
    Public,
    PublicView,
    PublicViewDep,
    disabled_page,
    disabled_post,
    form_page,
    public_page_on,
    refusal_text,
)
from playdeck.web.onboarding import PasswordFields, check_password_form, validation_text
from playdeck.web.rendering import set_flash
from playdeck.web.sso import redirect_to_provider, sso_provider
from playdeck.web.sso_logout import ClientsDep

router = APIRouter()
TokenQuery = Annotated[str, Query(max_length=100)]
TokenField = Annotated[str, Form(max_length=100)]


class LinkFields(PasswordFields):
    """What the reset form posts (the token comes back in a hidden field)."""

    token: Annotated[str, Field(max_length=100)] = ""


class InvitationFields(LinkFields):
    """What the invitation's password form posts."""

    username: str = ""
    name: str = ""


TEMPLATES = {
    LinkPurpose.INVITATION: "identity/invite.html",
    LinkPurpose.PASSWORD_RESET: "identity/reset_password.html",
}


@dataclass(slots=True)
class LinkForm:
    """What the form sends back when shown again (never the password)."""

    token: str
    email: str | None = None
    username: str = ""
    name: str = ""
    error: str | None = None
    usable: bool = True  # false: the link itself was refused, so there is no form to show


def _page(
    view: FormPost, purpose: LinkPurpose, form: LinkForm, *, refusal: AppError | None = None
) -> HTMLResponse:
    settings = view.settings
    return form_page(
        view.request,
        TEMPLATES[purpose],
        settings=settings,
        client=view.client,
        principal=Principal.anonymous(),
        refusal=refusal,
        form=form,
        min_length=settings.password_min_length,
        providers=settings.sso.providers,
        password_sign_in=settings.password_sign_in,
    )


def _page_on(post: FormPost, purpose: LinkPurpose, form: LinkForm) -> Page:
    def show(view: PublicView, refusal: AppError) -> Response:
        form.error = refusal_text(refusal)
        form.usable = refusal.code != "link_invalid"
        return _page(view, purpose, form, refusal=refusal)

    return public_page_on(post, show)


def _show(view: PublicView, purpose: LinkPurpose, token: str) -> Response:
    if not view.settings.require_auth:
        return disabled_page(view.request, view.viewer, what="Accounts")
    form = LinkForm(token=token)
    with refusals_on(_page_on(view, purpose, form)):
        form.email = service.check_link(view.session, token=token, purpose=purpose).email
    return _page(view, purpose, form)


def _submit(
    post: FormPost,
    purpose: LinkPurpose,
    form: LinkForm,
    fields: LinkFields,
    *,
    redeem: Callable[[], object],
    flash: str,
) -> Response:
    """What both forms do: check the link, the form token and the repeated password, then
    ``redeem`` (which parses the form and calls the service); on to ``/login`` with ``flash``."""
    if not post.settings.require_auth:
        return disabled_post(post, what="Accounts")
    with refusals_on(_page_on(post, purpose, form)):
        form.email = service.check_link(post.session, token=form.token, purpose=purpose).email
        check_password_form(post.request, post.settings, fields)
        redeem()
    response = RedirectResponse("/login", status_code=303)
    set_flash(response, flash)
    return response


@router.get("/invite", response_class=HTMLResponse, response_model=None)
def show_invitation(view: PublicViewDep, _public: Public, token: TokenQuery = "") -> Response:
    """The invitee chooses a username and a password."""
    return _show(view, LinkPurpose.INVITATION, token)


@router.post("/invite", response_class=HTMLResponse, response_model=None)
def accept_invitation(
    post: AttemptPostDep,
    _public: Public,
    fields: Annotated[InvitationFields, Form()],
) -> Response:
    """Create the invited account, then sign in on ``/login``."""
    form = LinkForm(token=fields.token, username=fields.username.strip(), name=fields.name.strip())

    def redeem() -> None:
        data = parse_form(
            InvitationAccept,
            {
                "token": fields.token,
                "username": form.username,
                "password": fields.password,
                "name": form.name or None,
            },
            text=validation_text,
        )
        service.accept_with_password(post.session, attempt=post.attempt, data=data)

    return _submit(
        post,
        LinkPurpose.INVITATION,
        form,
        fields,
        redeem=redeem,
        flash="invitation-accepted",
    )


@router.post("/auth/sso/{provider}/invitation", response_class=HTMLResponse, response_model=None)
def accept_invitation_through_provider(
    post: PostDep,
    clients: ClientsDep,
    _public: Public,
    provider: str,
    token: TokenField = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Accept an invitation through ``provider``: a redirect to it, the invitation bound to
    that sign-in; the provider's callback makes the account and signs the invitee in."""
    request, settings = post.request, post.settings
    if not settings.require_auth:
        return disabled_page(request, Principal.builtin_admin(), what="Accounts", status_code=404)
    found = sso_provider(settings, provider)
    with refusals_on(_page_on(post, LinkPurpose.INVITATION, LinkForm(token=token))):
        key = service.invitation_key(post.session, token=token)
        form_csrf.check(request, settings, csrf_token)
    return redirect_to_provider(post.links, settings, post.client, clients, found, invitation=key)


@router.get("/reset-password", response_class=HTMLResponse, response_model=None)
def show_password_reset(view: PublicViewDep, _public: Public, token: TokenQuery = "") -> Response:
    """The user chooses a new password."""
    return _show(view, LinkPurpose.PASSWORD_RESET, token)


@router.post("/reset-password", response_class=HTMLResponse, response_model=None)
def reset_password(
    post: AttemptPostDep,
    _public: Public,
    fields: Annotated[LinkFields, Form()],
) -> Response:
    """Set the new password, then sign in on ``/login``."""

    def redeem() -> None:
        data = parse_form(
            PasswordResetWithLink,
            {"token": fields.token, "password": fields.password},
            text=validation_text,
        )
        service.reset_with_link(
            post.session, attempt=post.attempt, token=data.token, password=data.password
        )

    return _submit(
        post,
        LinkPurpose.PASSWORD_RESET,
        LinkForm(token=fields.token),
        fields,
        redeem=redeem,
        flash="password-reset",
    )
