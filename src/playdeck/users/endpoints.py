"""User administration (global administrators only): ``/api/admin/users``, and the paths the
clients of the products Playdeck replaces use for it: the JWT login API's ``/admin/users/{id}``
and the PhenX dashboard's ``/api/users``.

The JWT login API's ``GET /admin/users`` list is also the dashboard's page, so the web layer
serves that one path (``web.admin_users``): JSON to API callers, the page to browsers.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from playdeck.audit.service import Actor
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import GlobalRole, Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep, SettingsDep
from playdeck.kit.pagination import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT
from playdeck.users import service
from playdeck.users.schemas import User, UserAdminCreate, UserAdminUpdate, UserKind, UserPage

router = APIRouter(prefix="/api/admin/users", tags=["admin"])
# The replaced products' paths for the same operations; documented once, under /api/admin/users.
legacy_router = APIRouter(include_in_schema=False)

UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
Admin = Annotated[Principal, authorize(Permission.USERS_ADMIN)]


@router.get("", response_model=UserPage)
def list_users(
    session: SessionDep,
    _principal: Admin,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in username, email or name.")
    ] = None,
    role: GlobalRole | None = None,
    active: bool | None = None,
    kind: Annotated[
        UserKind | None,
        Query(description="`person`: people only; `service`: service accounts only."),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> UserPage:
    """Accounts by id, filtered by text, role, active state and kind (people or service
    accounts); each says whether it is a service account (``service_account``)."""
    rows, next_cursor = service.list_users(
        session, q=q, role=role, active=active, kind=kind, cursor=cursor, limit=limit
    )
    return UserPage(items=[User.of(r) for r in rows], next_cursor=next_cursor)


@router.post("", response_model=User, status_code=201)
@legacy_router.post("/api/users", response_model=User, status_code=201)
def create_user(
    data: UserAdminCreate,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: Admin,
) -> User:
    """Create an account (the password policy applies); ``is_superuser: true`` means admin."""
    user = service.create_by_admin(
        session, settings=settings, data=data, principal=principal, client=client
    )
    return User.of(user)


@router.get("/{user_id}", response_model=User)
def get_user(user_id: UserId, session: SessionDep, _principal: Admin) -> User:
    return User.of(service.get_user(session, user_id=user_id))


@router.put("/{user_id}", response_model=User)
@router.patch("/{user_id}", response_model=User)
@legacy_router.put("/admin/users/{user_id}", response_model=User)
def update_user(
    user_id: UserId,
    data: UserAdminUpdate,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: Admin,
) -> User:
    """Change role, activity, name, email or password; only the fields sent change.

    The last active administrator cannot be demoted or deactivated (409). Deactivating ends
    every session and refresh token, and the user's API keys stop working.
    """
    user = service.get_user(session, user_id=user_id)
    updated = service.update_user(
        session,
        user=user,
        data=data,
        actor=Actor.of(principal),
        settings=settings,
        client=client,
    )
    return User.of(updated)


@router.delete("/{user_id}", status_code=204)
@legacy_router.delete("/api/users/{user_id}", status_code=204)
def delete_user(
    user_id: UserId, session: SessionDep, client: ClientDep, principal: Admin
) -> Response:
    """Delete an account. Refused (409) for the last active administrator and for the only
    owner of a project."""
    user = service.get_user(session, user_id=user_id)
    service.delete_user(session, user=user, actor=Actor.of(principal), client=client)
    return Response(status_code=204)


@router.post("/{user_id}/unlock", response_model=User)
def unlock_user(
    user_id: UserId,
    session: SessionDep,
    client: ClientDep,
    principal: Admin,
) -> User:
    """Clear a login lockout and the failure counter now, instead of waiting it out."""
    user = service.get_user(session, user_id=user_id)
    return User.of(service.unlock(session, user=user, actor=Actor.of(principal), client=client))


@legacy_router.get("/api/users", response_model=list[User])
def list_all_users(session: SessionDep, _principal: Admin) -> list[User]:
    """Every account, as one JSON list (what the PhenX dashboard's client reads)."""
    return [User.of(row) for row in service.list_all_users(session)]
