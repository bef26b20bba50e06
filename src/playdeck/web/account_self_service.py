"""The account page's self-service forms: your profile (display name, email) and ending one
of your sessions (``/account/sessions/{id}/end``, a confirmation step then the POST).

They call the services behind ``PATCH /api/auth/me`` and ``DELETE /api/auth/sessions/{id}``
(``account``), so the password check, rate limits, verification links and audit events are
the API's. Forms carry the session's CSRF token, checked before these handlers run.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from playdeck.account import service as account_service
from playdeck.account import sessions as own_sessions
from playdeck.account.schemas import ProfileUpdate
from playdeck.auth import signin
from playdeck.auth.transport import clear_session_cookie, cookie_secure
from playdeck.models import User
from playdeck.web.account import SessionRow, account_page_on
from playdeck.web.forms import Confirmation, PostDep, confirm_page, done, parse_form, refusals_on
from playdeck.web.identity import NO_STORE, AttemptPostDep
from playdeck.web.rendering import set_flash
from playdeck.web.views import SignedIn, ViewDep

router = APIRouter()

PublicId = Annotated[str, Path(min_length=1, max_length=64)]
SESSIONS = "/account#sessions"


class ProfileFields(BaseModel):
    """What the profile form posts."""

    name: Annotated[str, Field(max_length=1000)] = ""
    email: Annotated[str, Field(max_length=1000)] = ""
    current_password: Annotated[str, Field(max_length=4096)] = ""


def _asks_for_link(user: User, fields: ProfileFields) -> bool:
    """Whether the form asks for an email link: a new address, or (with the password typed) the
    current one while it is unverified. Saving only the name never asks."""
    typed = fields.email.strip().lower()
    if not typed:
        return False
    return typed != user.email or (user.email_verified_at is None and bool(fields.current_password))


@router.post("/account/profile", response_class=HTMLResponse, response_model=None)
def update_profile(
    post: AttemptPostDep, principal: SignedIn, fields: Annotated[ProfileFields, Form()]
) -> Response:
    """Save your display name; a new email gets a verification link (the old one stays until
    the link is used)."""
    session, settings = post.session, post.settings
    if not settings.require_auth:
        return RedirectResponse("/account", status_code=303)
    with refusals_on(account_page_on(post, principal, form="profile")):
        changes: dict[str, str | None] = {"name": fields.name.strip() or None}
        user = signin.current_account(session, principal)
        if _asks_for_link(user, fields):
            changes["email"] = fields.email.strip()
        if fields.current_password:
            changes["current_password"] = fields.current_password
        data = parse_form(ProfileUpdate, changes)
        changed = account_service.update_profile(
            session,
            attempt=post.attempt,
            principal=principal,
            data=data,
            base_url=post.links,
        )
    if changed.pending_email is None:
        return done("/account", "profile-saved")
    return done("/account", "email-link-sent" if changed.mailed else "email-link-not-mailed")


@router.get("/account/sessions/{public_id}/end", response_class=HTMLResponse, response_model=None)
def confirm_end_session(public_id: PublicId, view: ViewDep, principal: SignedIn) -> Response:
    row = SessionRow.of(
        own_sessions.find_session(view.session, principal=principal, public_id=public_id),
        principal,
    )
    where = f" from {row.ip}" if row.ip else ""
    return confirm_page(
        view.request,
        principal,
        Confirmation(
            title="End this session?",
            message=f"{row.device}{where}, signed in {row.created_at:%Y-%m-%d %H:%M} UTC. "
            "Its browser or API client is signed out at once.",
            warning="This is the session you are using: you will be signed out here."
            if row.current
            else None,
            action=f"/account/sessions/{row.public_id}/end",
            button="End session",
            back=SESSIONS,
            crumbs=(("Account", "/account"), ("Sessions", SESSIONS)),
        ),
    )


@router.post("/account/sessions/{public_id}/end", response_model=None)
def end_session(public_id: PublicId, post: PostDep, principal: SignedIn) -> Response:
    """End one of your sessions; ending this one signs this browser out."""
    client = post.client
    current = own_sessions.end_session(
        post.session, principal=principal, public_id=public_id, client=client
    )
    if not current:
        return done(SESSIONS, "session-ended")
    response = RedirectResponse("/login", status_code=303, headers=NO_STORE)
    clear_session_cookie(response, secure=cookie_secure(post.settings, client))
    set_flash(response, "signed-out")
    return response
