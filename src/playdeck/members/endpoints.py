"""``/api/projects/{ref}/members``: who may work in a project, and as what.

The JWT login API adds members at ``POST /projects/{id}/members``; that path answers the same
way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from playdeck.auth.dependencies import ClientDep
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep
from playdeck.kit.pagination import MAX_ID
from playdeck.members import service
from playdeck.members.schemas import Member, MemberCreate, MemberUpdate
from playdeck.projects.access import ProjectAccess
from playdeck.projects.dependencies import project_access

router = APIRouter(prefix="/api/projects/{ref}/members", tags=["members"])
legacy_router = APIRouter(include_in_schema=False)

UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
Readers = Annotated[ProjectAccess, project_access(Permission.MEMBERS_READ)]
Managers = Annotated[ProjectAccess, project_access(Permission.MEMBERS_MANAGE)]


@router.get("", response_model=list[Member])
def list_members(session: SessionDep, access: Readers) -> list[Member]:
    """The project's members, strongest role first."""
    return [Member.of(m, u) for m, u in service.list_members(session, project=access.project)]


@router.post("", response_model=Member, status_code=201)
@legacy_router.post("/projects/{ref}/members", response_model=Member, status_code=201)
def add_member(
    data: MemberCreate, session: SessionDep, client: ClientDep, access: Managers
) -> Member:
    """Add a user (by ``user_id``, ``username`` or ``email``) with a role. Granting ``owner``
    takes an owner."""
    member, user = service.add_member(
        session, project=access.project, principal=access.principal, data=data, client=client
    )
    return Member.of(member, user)


@router.patch("/{user_id}", response_model=Member)
def change_member_role(
    user_id: UserId,
    data: MemberUpdate,
    session: SessionDep,
    client: ClientDep,
    access: Managers,
) -> Member:
    """Change a member's role. Owners are changed only by owners; the last owner stays (409);
    nobody raises their own role."""
    member, user = service.change_role(
        session,
        project=access.project,
        principal=access.principal,
        user_id=user_id,
        role=data.role,
        client=client,
    )
    return Member.of(member, user)


@router.delete("/{user_id}", status_code=204)
def remove_member(
    user_id: UserId, session: SessionDep, client: ClientDep, access: Managers
) -> Response:
    """Remove a member. Owners are removed only by owners, and never the last one (409)."""
    service.remove_member(
        session,
        project=access.project,
        principal=access.principal,
        user_id=user_id,
        client=client,
    )
    return Response(status_code=204)
