"""``/account``: the signed-in user's profile, password, login sessions and API keys.

Password change and "sign out everywhere" call the services behind ``POST /api/auth/password``
and ``/api/auth/logout-all``. Their forms carry the session's CSRF token, which the credential
check (``auth.credentials``) verifies before these handlers run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from playdeck.account import service as account_service
from playdeck.auth import password_change, signin, signout
from playdeck.auth import sessions as auth_sessions
from playdeck.auth.principal import Principal
from playdeck.auth.schemas import PasswordChange
from playdeck.auth.transport import clear_session_cookie, cookie_secure
from playdeck.authz.service import PASSWORD_SIGN_IN
from playdeck.errors import AppError, InvalidInput
from playdeck.invitations.mail import mail_configured
from playdeck.models import User, UserSession
from playdeck.settings import Settings
from playdeck.twofactor import service as two_factor
from playdeck.web.api_keys import own_keys_view
from playdeck.web.errors import Page
from playdeck.web.forms import PostDep, page_on, parse_form, refusals_on
from playdeck.web.identity import (
    NO_STORE,
    AttemptPostDep,
    answered,
    refusal_text,
    signed_in_redirect,
)
from playdeck.web.rendering import render, set_flash
from playdeck.web.views import PageView, SignedIn, ViewDep

router = APIRouter()

SESSIONS_SHOWN = 50

# (pattern in a User-Agent, name), first match wins: Edge and Opera also say "Chrome", Chrome
# also says "Safari".
BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python-httpx/", "Python (httpx)"),
    ("python-requests/", "Python (requests)"),
    ("node", "Node.js"),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
HEADLESS = re.compile(r"Headless", re.IGNORECASE)


def describe_agent(user_agent: str | None) -> str:
    """``Firefox on Linux``: enough for a person to recognise their device."""
    if not user_agent:
        return "Unknown device"
    browser = next((name for key, name in BROWSERS if key in user_agent), None)
    system = next((name for key, name in SYSTEMS if key in user_agent), None)
    if browser and HEADLESS.search(user_agent):
        browser = f"{browser} (headless)"
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Other client"


@dataclass(frozen=True, slots=True)
class SessionRow:
    public_id: str
    device: str
    user_agent: str | None
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    current: bool

    @classmethod
    def of(cls, row: UserSession, principal: Principal) -> SessionRow:
        return cls(
            public_id=row.public_id,
            device=describe_agent(row.user_agent),
            user_agent=row.user_agent,
            ip=row.ip,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
            current=row.id == principal.session_id,
        )


def api_keys_context(session: Session, principal: Principal) -> dict[str, Any]:
    """What ``templates/account/api_keys.html`` needs: your keys and the form to create one
    (``web.api_keys``; the key itself is shown by the page that form posts to)."""
    return {"view": own_keys_view(session, principal)}


def profile_context(
    session: Session, settings: Settings, user: User | None, *, error: str | None
) -> dict[str, Any]:
    """What the profile form needs: the pending address, whether mail can prove one, whether
    the account has a password to ask for, and a refused form's message."""
    return {
        "pending_email": account_service.pending_email(session, user) if user else None,
        "can_mail": mail_configured(settings),
        "has_password": user is not None and user.password_hash is not None,
        "error": error,
    }


def _account_page(
    view: PageView,
    principal: Principal,
    *,
    refusal: AppError | None = None,
    form_error: str | None = None,
    profile_error: str | None = None,
) -> HTMLResponse:
    session, settings = view.session, view.settings
    user = signin.current_user(session, principal)
    rows = (
        auth_sessions.active_sessions(session, user_id=user.id, limit=SESSIONS_SHOWN)
        if user is not None
        else []
    )
    return render(
        view.request,
        "account/page.html",
        principal=principal,
        auth_enabled=settings.require_auth,
        user=user,
        sessions=[SessionRow.of(row, principal) for row in rows],
        sessions_limit=SESSIONS_SHOWN,
        can_change_password=principal.credential in PASSWORD_SIGN_IN,
        min_length=settings.password_min_length,
        form_error=form_error,
        api_keys=api_keys_context(session, principal),
        profile=profile_context(session, settings, user, error=profile_error),
        two_factor=two_factor.status(session, settings=settings, user=user) if user else None,
        **answered(refusal),
    )


def account_page_on(view: PageView, principal: Principal, *, form: str = "password") -> Page:
    """The account page with a refusal of ``form`` (``password``, or ``profile`` for
    ``web.account_self_service``) shown by that form."""

    def show(reading: PageView, refusal: AppError) -> Response:
        message = refusal_text(refusal)
        return _account_page(
            reading,
            principal,
            form_error=message if form == "password" else None,
            profile_error=message if form == "profile" else None,
            refusal=refusal,
        )

    return page_on(view, show)


@router.get("/account", response_class=HTMLResponse)
def show_account(view: ViewDep, principal: SignedIn) -> HTMLResponse:
    return _account_page(view, principal)


@router.post("/account/password", response_class=HTMLResponse, response_model=None)
def change_password(
    post: AttemptPostDep,
    principal: SignedIn,
    current_password: Annotated[str, Form()] = "",
    new_password: Annotated[str, Form()] = "",
    new_password_confirm: Annotated[str, Form()] = "",
) -> Response:
    """Change your password: every session ends, and this browser continues in a new one."""
    session, settings, client = post.session, post.settings, post.client
    if not settings.require_auth:
        return RedirectResponse("/account", status_code=303)
    with refusals_on(account_page_on(post, principal)):
        if new_password != new_password_confirm:
            raise InvalidInput("The two new passwords do not match.")
        data = parse_form(
            PasswordChange,
            {"current_password": current_password, "new_password": new_password},
            text=lambda _exc: "Enter your current password and a new password (at most 1 KiB).",
        )
        issued = password_change.change_password(
            session, attempt=post.attempt, principal=principal, data=data
        )
    response = signed_in_redirect(issued, "/account", settings=settings, client=client)
    set_flash(response, "password-changed")
    return response


@router.post("/account/sign-out-everywhere", response_model=None)
def sign_out_everywhere(post: PostDep, principal: SignedIn) -> Response:
    """End every session of this user, on every device, this browser included."""
    session, settings, client = post.session, post.settings, post.client
    if not settings.require_auth:
        return RedirectResponse("/account", status_code=303)
    signout.logout_all(session, principal=principal, client=client)
    response = RedirectResponse("/login", status_code=303, headers=NO_STORE)
    clear_session_cookie(response, secure=cookie_secure(settings, client))
    set_flash(response, "signed-out-everywhere")
    return response
