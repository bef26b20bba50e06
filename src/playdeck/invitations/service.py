"""Invitations and administrator-issued password-reset links. Services flush, the caller commits.

A link's token is 256 random bits behind a prefix (``pdi_`` invitation, ``pdp_`` reset); only
its SHA-256 is stored. A link that is unknown, used or expired is refused with one answer
(``404 link_invalid``), so the answer does not say which. Redeeming marks the link used in the
same transaction as what it grants: when anything after it is refused (a taken username, a
weak password) the whole request rolls back and the link still works.

Single sign-on accepts an invitation through the same seam as a password:
``redeem_invitation`` (claims the link) then ``grant_invitation`` (role, memberships, audit)
once the account exists; ``accept_with_password`` is those two around ``create_user``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from playdeck.audit import service as audit
from playdeck.audit.service import Action, Actor
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import GlobalRole, Principal
from playdeck.auth.rate_limit import RateLimits
from playdeck.auth.tokens import hash_secret
from playdeck.authz.permissions import ProjectRole
from playdeck.errors import Conflict, InvalidInput, NotFound
from playdeck.invitations import mail, repository
from playdeck.invitations.purpose import LinkPurpose
from playdeck.invitations.schemas import InvitationAccept, InvitationCreate
from playdeck.kit.clock import utcnow
from playdeck.members import repository as members
from playdeck.models import AccountLink, Project, ProjectMember, User
from playdeck.projects import repository as projects
from playdeck.settings import Settings
from playdeck.users import repository as users
from playdeck.users import service as users_service

INVITE_PATH = "/invite"
RESET_PATH = "/reset-password"
INVALID_LINK = "This link is invalid, already used or expired; ask for a new one"


@dataclass(frozen=True, slots=True)
class IssuedLink:
    row: AccountLink
    url: str  # holds the token: shown once, never logged
    emailed_to: str | None


def new_token(purpose: LinkPurpose) -> str:
    return purpose.prefix + secrets.token_urlsafe(32)


def link_url(base_url: str, path: str, token: str) -> str:
    # In the query string: access logs record the path, never the query (observability).
    return f"{base_url.rstrip('/')}{path}?token={token}"


def _issue(
    session: Session,
    *,
    purpose: LinkPurpose,
    lifetime: timedelta,
    principal: Principal,
    **fields: Any,
) -> tuple[AccountLink, str]:
    token = new_token(purpose)
    now = utcnow()
    row = repository.add(
        session,
        AccountLink(
            purpose=purpose.value,
            token_hash=hash_secret(token),
            created_by_id=principal.user_id,
            created_at=now,
            expires_at=now + lifetime,
            **fields,
        ),
    )
    return row, token


def check_link(session: Session, *, token: str, purpose: LinkPurpose) -> AccountLink:
    """The link, if it may still be used (the page that asks for a password looks first)."""
    link = repository.find(session, token_hash=hash_secret(token), purpose=purpose)
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        raise NotFound(INVALID_LINK, code="link_invalid")
    return link


def _redeem(session: Session, *, token: str, purpose: LinkPurpose) -> AccountLink:
    link = check_link(session, token=token, purpose=purpose)
    if not repository.claim(session, link.id, at=utcnow()):
        raise NotFound(INVALID_LINK, code="link_invalid")
    return link


# --- invitations ---


def _grants(session: Session, data: InvitationCreate) -> list[dict[str, Any]]:
    if data.role is GlobalRole.REPORTER and data.memberships:
        raise InvalidInput(
            "Reporter accounts only submit results; they take no project role",
            code="reporter_not_member",
        )
    grants: dict[int, str] = {}
    for grant in data.memberships:
        project = projects.get_by_ref(session, grant.project)
        if project is None:
            raise InvalidInput(f"No project {grant.project!r}", code="project_not_found")
        grants[project.id] = grant.role.value
    return [{"project_id": pid, "role": role} for pid, role in grants.items()]


def _check_email_free(session: Session, email: str | None) -> None:
    if email and users.find_by_email(session, email) is not None:
        raise Conflict(users_service.TAKEN_MESSAGE, code="user_exists")


def create_invitation(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    data: InvitationCreate,
    base_url: str,
    project: Project | None = None,
    client: ClientInfo | None = None,
) -> IssuedLink:
    """An invitation with a global role and memberships. ``project``: a project owner's
    invitation to that project (the caller checked ``owners:manage`` on it; ``data`` was built
    with role ``user`` and that one membership)."""
    _check_email_free(session, data.email)
    grants = _grants(session, data)
    row, token = _issue(
        session,
        purpose=LinkPurpose.INVITATION,
        lifetime=timedelta(days=settings.invitation_days),
        principal=principal,
        email=data.email,
        role=data.role.value,
        memberships=grants,
        project_id=project.id if project is not None else None,
    )
    url = link_url(base_url, INVITE_PATH, token)
    emailed = mail.send_after_commit(
        session,
        settings,
        to=data.email,
        subject="You are invited to Playdeck",
        body=(
            f"{principal.username} invited you to Playdeck.\n\nSet your password here "
            f"(the link works once, until {row.expires_at:%Y-%m-%d %H:%M} UTC):\n\n{url}\n"
        ),
    )
    audit.record(
        session,
        action=Action.INVITATION_CREATED,
        actor=Actor.of(principal),
        client=client,
        details={
            "invitation_id": row.id,
            "email": data.email,
            "role": data.role.value,
            "memberships": grants,
            "emailed": emailed is not None,
        },
    )
    return IssuedLink(row=row, url=url, emailed_to=emailed)


def list_invitations(session: Session, *, project: Project | None = None) -> list[AccountLink]:
    """Pending invitations (neither used nor expired), newest first."""
    return repository.pending_invitations(
        session, now=utcnow(), project_id=project.id if project else None
    )


def revoke_invitation(
    session: Session,
    *,
    principal: Principal,
    invitation_id: int,
    project: Project | None = None,
    client: ClientInfo | None = None,
) -> None:
    """Withdraw an invitation: its link stops working. ``project``: only that project's."""
    link = repository.get_invitation(session, invitation_id)
    if link is None or (project is not None and link.project_id != project.id):
        raise NotFound("Invitation not found", code="invitation_not_found")
    repository.remove(session, link)
    audit.record(
        session,
        action=Action.INVITATION_REVOKED,
        actor=Actor.of(principal),
        client=client,
        details={"invitation_id": invitation_id, "was_used": link.used_at is not None},
    )


def redeem_invitation(session: Session, *, token: str) -> AccountLink:
    """Claim an invitation (single use); the account is made by the caller, then
    ``grant_invitation``. The SSO sign-in's seam: it provisions its own account in between."""
    return _redeem(session, token=token, purpose=LinkPurpose.INVITATION)


def grant_invitation(
    session: Session, *, link: AccountLink, user: User, client: ClientInfo | None = None
) -> None:
    """Give ``user`` what the invitation grants: its memberships (projects deleted since are
    skipped), and record who accepted it."""
    link.user_id = user.id
    granted = []
    for grant in link.memberships:
        project = session.get(Project, grant["project_id"])
        if project is None or user.role == GlobalRole.REPORTER:
            continue
        role = ProjectRole(grant["role"]).value
        members.add(session, ProjectMember(project_id=project.id, user_id=user.id, role=role))
        granted.append({"project_id": project.id, "role": role})
        audit.record(
            session,
            action=Action.MEMBER_ADDED,
            actor=Actor.user(user),
            target=user,
            client=client,
            details={
                "project_id": project.id,
                "project": project.name,
                "role": role,
                "via": "invitation",
            },
        )
    session.flush()
    audit.record(
        session,
        action=Action.INVITATION_ACCEPTED,
        actor=Actor.user(user),
        target=user,
        client=client,
        details={"invitation_id": link.id, "memberships": granted},
    )


def accept_with_password(
    session: Session,
    *,
    settings: Settings,
    limits: RateLimits,
    client: ClientInfo,
    data: InvitationAccept,
) -> User:
    """Accept an invitation by choosing a username and password; the invitee then signs in
    like anyone else (the same lockout, rate limits and, later, second factor)."""
    limits.check_sensitive("link", ip=client.ip)
    link = redeem_invitation(session, token=data.token)
    user = users_service.create_user(
        session,
        settings=settings,
        username=data.username,
        password=data.password,
        email=link.email,
        display_name=data.name or None,
        role=link.role or GlobalRole.USER.value,
        actor=Actor.system("invitation"),
        client=client,
        via="invitation",
        # An administrator vouches for the address; a project owner's invitation does not.
        email_verified=link.project_id is None,
    )
    grant_invitation(session, link=link, user=user, client=client)
    return user


# --- password reset links ---


def issue_password_reset(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    user: User,
    base_url: str,
    client: ClientInfo | None = None,
) -> IssuedLink:
    """A one-time link with which ``user`` sets a new password; an earlier unused one stops
    working. The administrator never learns the password."""
    if not user.is_active:
        raise Conflict("This account is deactivated; activate it first", code="user_inactive")
    if user.is_service:
        raise Conflict(
            "A service account has no password; it uses its API keys", code="service_account"
        )
    replaced = repository.drop_unused_resets(session, user.id)
    row, token = _issue(
        session,
        purpose=LinkPurpose.PASSWORD_RESET,
        lifetime=timedelta(hours=settings.password_reset_hours),
        principal=principal,
        user_id=user.id,
    )
    url = link_url(base_url, RESET_PATH, token)
    emailed = mail.send_after_commit(
        session,
        settings,
        to=user.email,
        subject="Reset your Playdeck password",
        body=(
            f"An administrator ({principal.username}) issued a password reset for "
            f"{user.username}.\n\nSet a new password here (the link works once, until "
            f"{row.expires_at:%Y-%m-%d %H:%M} UTC):\n\n{url}\n"
        ),
    )
    audit.record(
        session,
        action=Action.RESET_LINK_CREATED,
        actor=Actor.of(principal),
        target=user,
        client=client,
        details={"link_id": row.id, "replaced": replaced, "emailed": emailed is not None},
    )
    return IssuedLink(row=row, url=url, emailed_to=emailed)


def reset_with_link(
    session: Session,
    *,
    settings: Settings,
    limits: RateLimits,
    client: ClientInfo,
    token: str,
    password: str,
) -> User:
    """Set the password a reset link was issued for. The consequences are an administrator's
    reset's (``users.service.reset_password``): lock cleared, every session ended, every API
    key revoked. The user signs in afresh."""
    limits.check_sensitive("link", ip=client.ip)
    link = _redeem(session, token=token, purpose=LinkPurpose.PASSWORD_RESET)
    user = users.get(session, link.user_id) if link.user_id is not None else None
    if user is None or not user.is_active:
        raise NotFound(INVALID_LINK, code="link_invalid")
    users_service.reset_password(
        session, user=user, password=password, settings=settings, actor=Actor.user(user)
    )
    audit.record(
        session,
        action=Action.RESET_LINK_USED,
        actor=Actor.user(user),
        target=user,
        client=client,
        details={"link_id": link.id},
    )
    return user
