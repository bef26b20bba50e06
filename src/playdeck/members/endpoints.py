"""``/api/projects/{ref}/members``: who may work in a project, and as what.

The JWT login API adds members at ``POST /projects/{id}/members``; that path answers the same
way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import authorize
from playdeck.deps import SessionDep
from playdeck.kit.pagination import MAX_ID
from playdeck.members import service
from playdeck.members.schemas import Member, MemberCreate, MemberUpdate
from playdeck.projects.service import get_project

router = APIRouter(prefix="/api/projects/{ref}/members", tags=["members"])
legacy_router = APIRouter(include_in_schema=False)

UserId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("", response_model=list[Member])
def list_members(
    ref: str,
    session: SessionDep,
    principal: Annotated[Principal, authorize(Permission.MEMBERS_READ)],
) -> list[Member]:
    """The project's members, strongest role first."""
    project = get_project(session, principal=principal, ref=ref, permission=Permission.MEMBERS_READ)
    return [Member.of(m, u) for m, u in service.list_members(session, project=project)]


@router.post("", response_model=Member, status_code=201)
@legacy_router.post("/projects/{ref}/members", response_model=Member, status_code=201)
def add_member(
    ref: str,
    data: MemberCreate,
    session: SessionDep,
    client: ClientDep,
    principal: Annotated[Principal, authorize(Permission.MEMBERS_MANAGE)],
) -> Member:
    """Add a user (by ``user_id``, ``username`` or ``email``) with a role. Granting ``owner``
    takes an owner."""
    project = get_project(
        session, principal=principal, ref=ref, permission=Permission.MEMBERS_MANAGE
    )
    member, user = service.add_member(
        session, project=project, principal=principal, data=data, client=client
    )
    return Member.of(member, user)


@router.patch("/{user_id}", response_model=Member)
def change_member_role(
    ref: str,
    user_id: UserId,
    data: MemberUpdate,
    session: SessionDep,
    client: ClientDep,
    principal: Annotated[Principal, authorize(Permission.MEMBERS_MANAGE)],
) -> Member:
    """Change a member's role. Owners are changed only by owners; the last owner stays (409);
    nobody raises their own role."""
    project = get_project(
        session, principal=principal, ref=ref, permission=Permission.MEMBERS_MANAGE
    )
    member, user = service.change_role(
        session,
        project=project,
        principal=principal,
        user_id=user_id,
        role=data.role,
        client=client,
    )
    return Member.of(member, user)


@router.delete("/{user_id}", status_code=204)
def remove_member(
    ref: str,
    user_id: UserId,
    session: SessionDep,
    client: ClientDep,
    principal: Annotated[Principal, authorize(Permission.MEMBERS_MANAGE)],
) -> Response:
    """Remove a member. Owners are removed only by owners, and never the last one (409)."""
    project = get_project(
        session, principal=principal, ref=ref, permission=Permission.MEMBERS_MANAGE
    )
    service.remove_member(
        session, project=project, principal=principal, user_id=user_id, client=client
    )
    return Response(status_code=204)
