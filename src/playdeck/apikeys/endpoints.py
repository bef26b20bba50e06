"""``/api/users/{user_id}/api-keys``: a user's API keys (a global admin may manage anyone's)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from playdeck.apikeys import service
from playdeck.apikeys.schemas import ApiKey, ApiKeyCreate, ApiKeyCreated
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep
from playdeck.kit.pagination import MAX_ID
from playdeck.problems import OrjsonResponse

router = APIRouter(prefix="/api/users/{user_id}/api-keys", tags=["api keys"])

UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
KeyId = Annotated[int, Path(ge=1, le=MAX_ID)]
# The creator must be signed in; whose keys they may manage is the service's decision.
Caller = Annotated[Principal, authorize(Permission.AUTHENTICATED)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get("", response_model=list[ApiKey])
def list_api_keys(user_id: UserId, session: SessionDep, principal: Caller) -> list[ApiKey]:
    """The user's keys, newest first, revoked and expired ones included (never the key itself)."""
    rows = service.list_user_keys(session, principal=principal, user_id=user_id)
    return [ApiKey.of(row, project) for row, project in rows]


@router.post("", status_code=201, response_model=ApiKeyCreated)
def create_api_key(
    user_id: UserId,
    data: ApiKeyCreate,
    session: SessionDep,
    client: ClientDep,
    principal: Caller,
) -> OrjsonResponse:
    """Create a key. The response holds the key itself, this once: it is not stored, only its
    SHA-256 is, so it cannot be shown again."""
    created = service.create_user_key(
        session, principal=principal, user_id=user_id, data=data, client=client
    )
    body = ApiKeyCreated(**ApiKey.of(created.row, created.project).model_dump(), key=created.key)
    return OrjsonResponse(body.model_dump(mode="json"), status_code=201, headers=NO_STORE)


@router.delete("/{key_id}", status_code=204)
def revoke_api_key(
    user_id: UserId,
    key_id: KeyId,
    session: SessionDep,
    client: ClientDep,
    principal: Caller,
) -> Response:
    """Revoke a key at once. Revoking a revoked key again is a no-op (204)."""
    service.revoke_user_key(
        session, principal=principal, user_id=user_id, key_id=key_id, client=client
    )
    return Response(status_code=204)
