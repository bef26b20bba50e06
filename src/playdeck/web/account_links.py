"""``/invite`` and ``/reset-password``: where a one-time link lands (``invitations``).

Public pages: the token is the credential. The form carries it back in a hidden field; the
services behind ``POST /api/auth/invitations/accept`` and ``/api/auth/password-reset`` do the
rest, so rate limits, the password policy and the audit log are the API's. A refusal shows the
form again with the message, and leaves the link usable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from playdeck.auth.client import ClientInfo
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.endpoints import RateLimitsDep
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import authorize
from playdeck.deps import SessionDep, SettingsDep
from playdeck.errors import AppError, InvalidInput
from playdeck.invitations import service
from playdeck.invitations.purpose import LinkPurpose
from playdeck.invitations.schemas import InvitationAccept, PasswordResetWithLink
from playdeck.settings import Settings
from playdeck.web import form_csrf
from playdeck.web.errors import Page
from playdeck.web.forms import parse_form, refusals_on
from playdeck.web.identity import ViewerDep, disabled_page, form_page, refusal_headers, refusal_text
from playdeck.web.onboarding import MISMATCH, validation_text
from playdeck.web.rendering import set_flash

router = APIRouter()

Public = Annotated[None, authorize(Permission.PUBLIC)]
TokenQuery = Annotated[str, Query(max_length=100)]
TokenField = Annotated[str, Form(max_length=100)]
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
    request: Request,
    settings: Settings,
    client: ClientInfo,
    purpose: LinkPurpose,
    form: LinkForm,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return form_page(
        request,
        TEMPLATES[purpose],
        settings=settings,
        client=client,
        principal=Principal.anonymous(),
        status_code=status_code,
        headers=headers,
        form=form,
        min_length=settings.password_min_length,
    )


def _page_on(
    request: Request, settings: Settings, client: ClientInfo, purpose: LinkPurpose, form: LinkForm
) -> Page:
    def page(session: Session, refusal: AppError) -> Response:
        form.error = refusal_text(refusal)
        form.usable = refusal.code != "link_invalid"
        return _page(
            request,
            settings,
            client,
            purpose,
            form,
            status_code=refusal.status,
            headers=refusal_headers(refusal),
        )

    return page


def _show(
    request: Request,
    session: Session,
    settings: Settings,
    client: ClientInfo,
    principal: Principal,
    purpose: LinkPurpose,
    token: str,
) -> Response:
    if not settings.require_auth:
        return disabled_page(request, principal, what="Accounts")
    form = LinkForm(token=token)
    with refusals_on(_page_on(request, settings, client, purpose, form)):
        form.email = service.check_link(session, token=token, purpose=purpose).email
    return _page(request, settings, client, purpose, form)


def _check_form(
    request: Request,
    session: Session,
    settings: Settings,
    purpose: LinkPurpose,
    form: LinkForm,
    *,
    csrf_token: str,
    passwords: tuple[str, str],
) -> None:
    """What both forms check before their service: the link, the form token, the repeat."""
    form.email = service.check_link(session, token=form.token, purpose=purpose).email
    form_csrf.check(request, settings, csrf_token)
    if passwords[0] != passwords[1]:
        raise InvalidInput(MISMATCH)


def _to_login(flash: str) -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    set_flash(response, flash)
    return response


@router.get("/invite", response_class=HTMLResponse, response_model=None)
def show_invitation(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: ViewerDep,
    _public: Public,
    token: TokenQuery = "",
) -> Response:
    """The invitee chooses a username and a password."""
    return _show(request, session, settings, client, principal, LinkPurpose.INVITATION, token)


@router.post("/invite", response_class=HTMLResponse, response_model=None)
def accept_invitation(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limits: RateLimitsDep,
    client: ClientDep,
    _public: Public,
    token: TokenField = "",
    username: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_confirm: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Create the invited account, then sign in on ``/login``."""
    if not settings.require_auth:
        return disabled_page(request, Principal.builtin_admin(), what="Accounts", status_code=400)
    form = LinkForm(token=token, username=username.strip(), name=name.strip())
    purpose = LinkPurpose.INVITATION
    with refusals_on(_page_on(request, settings, client, purpose, form)):
        _check_form(
            request,
            session,
            settings,
            purpose,
            form,
            csrf_token=csrf_token,
            passwords=(password, password_confirm),
        )
        data = parse_form(
            InvitationAccept,
            {
                "token": token,
                "username": form.username,
                "password": password,
                "name": form.name or None,
            },
            text=validation_text,
        )
        service.accept_with_password(
            session, settings=settings, limits=limits, client=client, data=data
        )
    return _to_login("invitation-accepted")


@router.get("/reset-password", response_class=HTMLResponse, response_model=None)
def show_password_reset(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: ViewerDep,
    _public: Public,
    token: TokenQuery = "",
) -> Response:
    """The user chooses a new password."""
    return _show(request, session, settings, client, principal, LinkPurpose.PASSWORD_RESET, token)


@router.post("/reset-password", response_class=HTMLResponse, response_model=None)
def reset_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limits: RateLimitsDep,
    client: ClientDep,
    _public: Public,
    token: TokenField = "",
    password: Annotated[str, Form()] = "",
    password_confirm: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Set the new password, then sign in on ``/login``."""
    if not settings.require_auth:
        return disabled_page(request, Principal.builtin_admin(), what="Accounts", status_code=400)
    form = LinkForm(token=token)
    purpose = LinkPurpose.PASSWORD_RESET
    with refusals_on(_page_on(request, settings, client, purpose, form)):
        _check_form(
            request,
            session,
            settings,
            purpose,
            form,
            csrf_token=csrf_token,
            passwords=(password, password_confirm),
        )
        data = parse_form(
            PasswordResetWithLink, {"token": token, "password": password}, text=validation_text
        )
        service.reset_with_link(
            session,
            settings=settings,
            limits=limits,
            client=client,
            token=data.token,
            password=data.password,
        )
    return _to_login("password-reset")
