"""Administrative user actions. (Listing and editing users belongs to user administration.)"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from playdeck.audit.service import Actor
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import authorize
from playdeck.deps import SessionDep
from playdeck.errors import NotFound
from playdeck.users import repository, service
from playdeck.users.schemas import User

router = APIRouter(prefix="/api/admin/users", tags=["admin"])


@router.post("/{user_id}/unlock", response_model=User)
def unlock_user(
    user_id: Annotated[int, Path(ge=1)],
    session: SessionDep,
    client: ClientDep,
    principal: Annotated[Principal, authorize(Permission.USERS_ADMIN)],
) -> User:
    """Clear a login lockout and the failure counter now, instead of waiting it out."""
    user = repository.get(session, user_id)
    if user is None:
        raise NotFound("User not found")
    return User.of(service.unlock(session, user=user, actor=Actor.of(principal), client=client))
