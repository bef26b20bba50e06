"""Self-service profile changes: the display name, and the email with its verification.

A new email is *pending* until the one-time link mailed to it is used: until then the account
keeps its old address, which alone signs in by email and links single sign-on (a link only
follows a verified address, see ``sso.service``). So typing someone else's address takes it
from nobody and proves nothing. Links are hashed at rest (SHA-256), single-use, expiring
(``PLAYDECK_EMAIL_VERIFICATION_HOURS``) and only the newest one of a user works. Without a mail
server no link can reach anyone: the change stays pending, and an administrator who sets the
address (``PATCH /api/admin/users/{id}``) vouches for it instead.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from playdeck.account import repository
from playdeck.account.schemas import ProfileUpdate
from playdeck.audit.service import Action, Trail
from playdeck.auth.attempt import Attempt, ensure_enabled
from playdeck.auth.password_change import check_current_password
from playdeck.auth.principal import Principal
from playdeck.auth.signin import current_account
from playdeck.auth.tokens import hash_secret
from playdeck.authz.service import require_password_sign_in
from playdeck.errors import Conflict, NotFound
from playdeck.invitations import mail
from playdeck.invitations.service import INVALID_LINK, link_url
from playdeck.kit.clock import utcnow
from playdeck.models import EmailVerification, User
from playdeck.settings import Settings
from playdeck.users import repository as users
from playdeck.users.service import TAKEN_MESSAGE

VERIFY_PATH = "/verify-email"
TOKEN_PREFIX = "pde_"  # noqa: S105 - tells scanners and people what the token is


@dataclass(frozen=True, slots=True)
class ProfileChange:
    user: User
    pending_email: str | None
    mailed: bool


def pending_email(session: Session, user: User) -> str | None:
    """The address waiting for its link, if any (not one an administrator has since set)."""
    link = repository.pending(session, user.id, now=utcnow())
    if link is None or (link.email == user.email and user.email_verified_at is not None):
        return None
    return link.email


def _check_password(
    session: Session, *, attempt: Attempt, principal: Principal, user: User, password: str | None
) -> None:
    """An account with a password proves it again before its email moves: a session left
    open on someone else's screen must not be enough to re-address the account."""
    if user.password_hash is None:
        return  # signs in only through its provider: there is no password to ask for
    attempt.limits.check_sensitive("email", ip=attempt.client.ip, account=str(user.id))
    check_current_password(
        session,
        principal=principal,
        user=user,
        password=password,
        client=attempt.client,
        failed=Action.EMAIL_CHANGE_FAILED,
    )


def _send_link(
    session: Session, *, settings: Settings, user: User, email: str, base_url: str
) -> tuple[EmailVerification, bool]:
    repository.drop_unused(session, user.id)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    link = repository.add(
        session,
        EmailVerification(
            user_id=user.id,
            email=email,
            token_hash=hash_secret(token),
            created_at=now,
            expires_at=now + timedelta(hours=settings.email_verification_hours),
        ),
    )
    url = link_url(base_url, VERIFY_PATH, token)
    mailed = mail.send_link_after_commit(
        session,
        settings,
        to=email,
        subject="Confirm your email for Playdeck",
        opening="Someone, hopefully you, asked to use this address for the Playdeck account "
        f"{user.username}.",
        action="Confirm it",
        url=url,
        expires_at=link.expires_at,
        closing="If it was not you, ignore this mail: nothing changes.",
    )
    return link, mailed is not None


def update_profile(
    session: Session,
    *,
    attempt: Attempt,
    principal: Principal,
    data: ProfileUpdate,
    base_url: str,
) -> ProfileChange:
    """Change one's display name and, through a verification link, email. Only the fields
    ``data`` carries change; a taken address is the registration's one generic 409."""
    settings, client = attempt.settings, attempt.client
    ensure_enabled(settings)
    require_password_sign_in(principal, to="change your profile")
    user = current_account(session, principal)
    sent = data.model_fields_set
    new_email = data.email if "email" in sent else None
    proving = new_email is not None and (new_email != user.email or user.email_verified_at is None)
    if proving:
        _check_password(
            session,
            attempt=attempt,
            principal=principal,
            user=user,
            password=data.current_password,
        )
        if new_email != user.email and users.find_by_email(session, new_email or "") is not None:
            raise Conflict(TAKEN_MESSAGE, code="user_exists")
    changes: dict[str, list[Any]] = {}
    if "name" in sent and data.name != user.display_name:
        changes["name"] = [user.display_name, data.name]
        user.display_name = data.name
        session.flush()
    trail = Trail.of(session, principal, client)
    if changes:
        trail.record(Action.USER_UPDATED, user, changes=changes, via="self-service")
    mailed = False
    if proving and new_email is not None:
        link, mailed = _send_link(
            session, settings=settings, user=user, email=new_email, base_url=base_url
        )
        trail.record(
            Action.EMAIL_CHANGE_REQUESTED, user, email=new_email, link_id=link.id, emailed=mailed
        )
    return ProfileChange(user=user, pending_email=pending_email(session, user), mailed=mailed)


def check_link(session: Session, *, token: str) -> tuple[EmailVerification, User]:
    """The link and its account, if it may still be used (the page that asks looks first)."""
    link = repository.find(session, hash_secret(token))
    user = users.get(session, link.user_id) if link is not None else None
    if link is None or user is None or link.used_at is not None or link.expires_at <= utcnow():
        raise NotFound(INVALID_LINK, code="link_invalid")
    if not user.is_active:
        raise NotFound(INVALID_LINK, code="link_invalid")
    return link, user


def verify_email(session: Session, *, attempt: Attempt, token: str) -> User:
    """Use a verification link: its address becomes the account's email, verified. The old
    address, if any, is told (when mail is configured). Refused while another account uses the
    address (the registration's generic 409); the link then still works."""
    settings, limits, client = attempt.settings, attempt.limits, attempt.client
    ensure_enabled(settings)
    limits.check_sensitive("link", ip=client.ip)
    link, user = check_link(session, token=token)
    if link.email != user.email and users.find_by_email(session, link.email) is not None:
        raise Conflict(TAKEN_MESSAGE, code="user_exists")
    now = utcnow()
    if not repository.claim(session, link.id, at=now):
        raise NotFound(INVALID_LINK, code="link_invalid")
    old = user.email
    user.email = link.email
    user.email_verified_at = now
    session.flush()
    repository.drop_unused(session, user.id)
    Trail.own(session, user, client).record(
        Action.EMAIL_VERIFIED, user, email=[old, link.email], link_id=link.id
    )
    if old and old != link.email:
        mail.send_after_commit(
            session,
            settings,
            to=old,
            subject="Your Playdeck email was changed",
            body=(
                f"The Playdeck account {user.username} now uses {link.email} instead of this "
                "address. If you did not ask for this, tell your Playdeck administrator.\n"
            ),
        )
    return user
