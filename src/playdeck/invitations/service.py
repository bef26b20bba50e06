"""Invitations and administrator-issued password-reset links. Services flush, the caller commits.

A link's token is 256 random bits behind a prefix (``pdi_`` invitation, ``pdp_`` reset); only
its SHA-256 is stored. A link that is unknown, used or expired is refused with one answer
(``404 link_invalid``), so the answer does not say which. Redeeming marks the link used in the
same transaction as what it grants: when anything after it is refused (a taken username, a
weak password) the whole request rolls back and the link still works.

An invitation is accepted in one place, ``redeem_invitation``: it claims the link, has the
caller make the account (with a password, ``accept_with_password``; through a single-sign-on
provider, ``sso.service``) with the invitation's email and role, then grants its memberships
and records the acceptance.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Actor, Trail
from playdeck.auth.attempt import Attempt
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import GlobalRole, Principal
from playdeck.auth.tokens import hash_secret
from playdeck.authz.permissions import ProjectRole
from playdeck.errors import Conflict, Forbidden, InvalidInput, NotFound
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


def _usable(session: Session, *, token_hash: str, purpose: LinkPurpose) -> AccountLink:
    link = repository.find(session, token_hash=token_hash, purpose=purpose)
    if link is None or link.used_at is not None or link.expires_at <= utcnow():
        raise NotFound(INVALID_LINK, code="link_invalid")
    return link


def check_link(session: Session, *, token: str, purpose: LinkPurpose) -> AccountLink:
    """The link, if it may still be used (the page that asks for a password looks first)."""
    return _usable(session, token_hash=hash_secret(token), purpose=purpose)


def _redeem(session: Session, *, token_hash: str, purpose: LinkPurpose) -> AccountLink:
    link = _usable(session, token_hash=token_hash, purpose=purpose)
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
    emailed = mail.send_link_after_commit(
        session,
        settings,
        to=data.email,
        subject="You are invited to Playdeck",
        opening=f"{principal.username} invited you to Playdeck.",
        action="Accept the invitation",
        url=url,
        expires_at=row.expires_at,
    )
    Trail.of(session, principal, client).record(
        Action.INVITATION_CREATED,
        invitation_id=row.id,
        email=data.email,
        role=data.role.value,
        memberships=grants,
        emailed=emailed is not None,
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
    Trail.of(session, principal, client).record(
        Action.INVITATION_REVOKED, invitation_id=invitation_id, was_used=link.used_at is not None
    )


def invitation_key(session: Session, *, token: str) -> str:
    """What a single sign-on in flight keeps of an invitation (in its signed cookie, never in
    a URL): the SHA-256 of its token, once the invitation is known to be usable."""
    return check_link(session, token=token, purpose=LinkPurpose.INVITATION).token_hash


def pending_invitation(session: Session, *, key: str) -> AccountLink:
    """The invitation ``invitation_key`` named, if it may still be used (read, not claimed)."""
    return _usable(session, token_hash=key, purpose=LinkPurpose.INVITATION)


@dataclass(frozen=True, slots=True)
class Invitee:
    """What the account made for an invitation must have: its email (``None``: the caller's
    own, if any) and its global role. ``vouched``: an administrator's invitation vouches for
    the email; a project owner's does not."""

    email: str | None
    role: GlobalRole
    vouched: bool


def redeem_invitation(
    session: Session,
    *,
    key: str,
    make_account: Callable[[Invitee], User],
    client: ClientInfo | None = None,
) -> User:
    """Accept an invitation: claim it (single use, unexpired: else ``404 link_invalid``), make
    the account with ``make_account`` (a password, or a provider's identity), give it the
    invitation's memberships (projects deleted since are skipped) and record the acceptance.

    Everything happens in the caller's transaction: a refusal after the claim rolls it back,
    and the link still works.
    """
    link = _redeem(session, token_hash=key, purpose=LinkPurpose.INVITATION)
    role = GlobalRole(link.role or GlobalRole.USER)
    user = make_account(Invitee(email=link.email, role=role, vouched=link.project_id is None))
    link.user_id = user.id
    trail = Trail.own(session, user, client)
    granted = []
    for grant in link.memberships:
        project = session.get(Project, grant["project_id"])
        if project is None or user.role == GlobalRole.REPORTER:
            continue
        project_role = ProjectRole(grant["role"]).value
        members.add(
            session, ProjectMember(project_id=project.id, user_id=user.id, role=project_role)
        )
        granted.append({"project_id": project.id, "role": project_role})
        trail.record(
            Action.MEMBER_ADDED,
            user,
            project_id=project.id,
            project=project.name,
            role=project_role,
            via="invitation",
        )
    session.flush()
    trail.record(Action.INVITATION_ACCEPTED, user, invitation_id=link.id, memberships=granted)
    return user


def accept_with_password(session: Session, *, attempt: Attempt, data: InvitationAccept) -> User:
    """Accept an invitation by choosing a username and password; the invitee then signs in
    like anyone else (the same lockout, rate limits and, later, second factor). Refused while
    password sign-in is off: the password could not be used (the provider's button accepts)."""
    settings, limits, client = attempt.settings, attempt.limits, attempt.client
    if not settings.password_sign_in:
        raise Forbidden(
            "Password sign-in is turned off on this server; accept with single sign-on",
            code="password_sign_in_disabled",
        )
    limits.check_sensitive("link", ip=client.ip)

    def with_password(invitee: Invitee) -> User:
        return users_service.create_user(
            session,
            settings=settings,
            username=data.username,
            password=data.password,
            email=invitee.email,
            display_name=data.name or None,
            role=invitee.role,
            actor=Actor.system("invitation"),
            client=client,
            via="invitation",
            email_verified=invitee.vouched,
        )

    return redeem_invitation(
        session, key=hash_secret(data.token), make_account=with_password, client=client
    )


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
    emailed = mail.send_link_after_commit(
        session,
        settings,
        to=user.email,
        subject="Reset your Playdeck password",
        opening=f"An administrator ({principal.username}) issued a password reset for "
        f"{user.username}.",
        action="Set a new password",
        url=url,
        expires_at=row.expires_at,
    )
    Trail.of(session, principal, client).record(
        Action.RESET_LINK_CREATED,
        user,
        link_id=row.id,
        replaced=replaced,
        emailed=emailed is not None,
    )
    return IssuedLink(row=row, url=url, emailed_to=emailed)


def reset_with_link(session: Session, *, attempt: Attempt, token: str, password: str) -> User:
    """Set the password a reset link was issued for. The consequences are an administrator's
    reset's (``users.service.reset_password``): lock cleared, every session ended, every API
    key revoked. The user signs in afresh."""
    settings, limits, client = attempt.settings, attempt.limits, attempt.client
    limits.check_sensitive("link", ip=client.ip)
    link = _redeem(session, token_hash=hash_secret(token), purpose=LinkPurpose.PASSWORD_RESET)
    user = users.get(session, link.user_id) if link.user_id is not None else None
    if user is None or not user.is_active:
        raise NotFound(INVALID_LINK, code="link_invalid")
    users_service.reset_password(
        session, user=user, password=password, settings=settings, actor=Actor.user(user)
    )
    Trail.own(session, user, client).record(Action.RESET_LINK_USED, user, link_id=link.id)
    return user
