"""Invitations (``/api/admin/invitations``, ``/api/projects/{ref}/invitations``), reset links
(``/api/admin/users/{id}/password-reset-link``), and the two public routes that redeem them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from sqlalchemy.orm import Session

from playdeck.auth.client import ClientInfo
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.endpoints import AttemptDep
from playdeck.auth.principal import GlobalRole, Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import BaseUrlDep, SessionDep, SettingsDep
from playdeck.invitations import service
from playdeck.invitations.schemas import (
    Invitation,
    InvitationAccept,
    InvitationCreate,
    IssuedLinkOut,
    MembershipGrant,
    PasswordResetWithLink,
    ProjectInvitationCreate,
)
from playdeck.invitations.service import IssuedLink
from playdeck.kit.pagination import MAX_ID
from playdeck.projects.access import ProjectAccess
from playdeck.projects.dependencies import project_access
from playdeck.settings import Settings
from playdeck.users import service as users_service
from playdeck.users.schemas import User

router = APIRouter(tags=["invitations"])

Admin = Annotated[Principal, authorize(Permission.USERS_ADMIN)]
Owners = Annotated[ProjectAccess, project_access(Permission.OWNERS_MANAGE)]
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True, slots=True)
class LinkIssuing:
    """What a route that issues a one-time link works with: the request's session, the
    settings, the client, where links point (``base_url``), and its response, which no cache
    may keep (``answer``)."""

    session: Session
    settings: Settings
    client: ClientInfo
    base_url: str
    response: Response

    def answer(self, issued: IssuedLink) -> IssuedLinkOut:
        self.response.headers.update(NO_STORE)  # the body holds a one-time secret
        return IssuedLinkOut(
            id=issued.row.id,
            url=issued.url,
            expires_at=issued.row.expires_at,
            emailed_to=issued.emailed_to,
        )


def link_issuing(
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    links: BaseUrlDep,
) -> LinkIssuing:
    return LinkIssuing(session, settings, client, links, response)


LinkIssuingDep = Annotated[LinkIssuing, Depends(link_issuing)]


@router.post("/api/admin/invitations", response_model=IssuedLinkOut, status_code=201)
def create_invitation(
    data: InvitationCreate, issuing: LinkIssuingDep, principal: Admin
) -> IssuedLinkOut:
    """Invite someone with a global role and project roles: a one-time link, valid
    ``PLAYDECK_INVITATION_DAYS``, mailed to ``email`` when SMTP is configured. Shown once."""
    issued = service.create_invitation(
        issuing.session,
        principal=principal,
        settings=issuing.settings,
        data=data,
        base_url=issuing.base_url,
        client=issuing.client,
    )
    return issuing.answer(issued)


@router.get("/api/admin/invitations", response_model=list[Invitation])
def list_invitations(session: SessionDep, principal: Admin) -> list[Invitation]:
    """Pending invitations (not used, not expired), newest first; never their links."""
    return [Invitation.of(row) for row in service.list_invitations(session)]


@router.delete("/api/admin/invitations/{invitation_id}", status_code=204)
def revoke_invitation(
    invitation_id: Id, session: SessionDep, client: ClientDep, principal: Admin
) -> Response:
    """Withdraw an invitation: its link stops working."""
    service.revoke_invitation(
        session, principal=principal, invitation_id=invitation_id, client=client
    )
    return Response(status_code=204)


@router.post("/api/projects/{ref}/invitations", response_model=IssuedLinkOut, status_code=201)
def create_project_invitation(
    data: ProjectInvitationCreate, issuing: LinkIssuingDep, access: Owners
) -> IssuedLinkOut:
    """A project owner invites someone into this project (a global ``user`` with ``role``
    here). Shown once."""
    invitation = InvitationCreate(
        email=data.email,
        role=GlobalRole.USER,
        memberships=[MembershipGrant(project=str(access.project.id), role=data.role)],
    )
    issued = service.create_invitation(
        issuing.session,
        principal=access.principal,
        settings=issuing.settings,
        data=invitation,
        base_url=issuing.base_url,
        project=access.project,
        client=issuing.client,
    )
    return issuing.answer(issued)


@router.get("/api/projects/{ref}/invitations", response_model=list[Invitation])
def list_project_invitations(session: SessionDep, access: Owners) -> list[Invitation]:
    """This project's pending invitations."""
    return [Invitation.of(r) for r in service.list_invitations(session, project=access.project)]


@router.delete("/api/projects/{ref}/invitations/{invitation_id}", status_code=204)
def revoke_project_invitation(
    invitation_id: Id, session: SessionDep, client: ClientDep, access: Owners
) -> Response:
    """Withdraw one of this project's invitations."""
    service.revoke_invitation(
        session,
        principal=access.principal,
        invitation_id=invitation_id,
        project=access.project,
        client=client,
    )
    return Response(status_code=204)


@router.post(
    "/api/admin/users/{user_id}/password-reset-link",
    response_model=IssuedLinkOut,
    status_code=201,
)
def issue_password_reset_link(
    user_id: Id, issuing: LinkIssuingDep, principal: Admin
) -> IssuedLinkOut:
    """A one-time link with which the user sets a new password (valid
    ``PLAYDECK_PASSWORD_RESET_HOURS``); an earlier unused link stops working."""
    issued = service.issue_password_reset(
        issuing.session,
        principal=principal,
        settings=issuing.settings,
        user=users_service.get_user(issuing.session, user_id=user_id),
        base_url=issuing.base_url,
        client=issuing.client,
    )
    return issuing.answer(issued)


@router.post(
    "/api/auth/invitations/accept",
    response_model=User,
    status_code=201,
    dependencies=[authorize(Permission.PUBLIC)],
)
def accept_invitation(data: InvitationAccept, session: SessionDep, attempt: AttemptDep) -> User:
    """Create the invited account with a username and password (then sign in). 404
    ``link_invalid`` for an unknown, used or expired token."""
    user = service.accept_with_password(session, attempt=attempt, data=data)
    return User.of(user)


@router.post(
    "/api/auth/password-reset",
    status_code=204,
    dependencies=[authorize(Permission.PUBLIC)],
)
def reset_password_with_link(
    data: PasswordResetWithLink, session: SessionDep, attempt: AttemptDep
) -> Response:
    """Set a new password with an administrator's reset link. Every session of the account
    ends and its API keys are revoked; sign in with the new password."""
    service.reset_with_link(session, attempt=attempt, token=data.token, password=data.password)
    return Response(status_code=204)
