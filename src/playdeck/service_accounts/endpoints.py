"""``/api/projects/{ref}/service-accounts`` (the project's managers: project admins and owners,
and administrators) and ``/api/admin/service-accounts`` (global ones: administrators), each with
``/{id}/keys``. One set of handlers serves both; only the gate and the owner differ.

(No ``from __future__ import annotations`` here: the handlers' ``Annotated`` parameters name the
gate of the router being built, which FastAPI must see as a value, not as a string.)
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from fastapi.params import Depends

from playdeck.apikeys.schemas import ApiKey, ApiKeyCreate, ApiKeyCreated
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep, SettingsDep
from playdeck.kit.pagination import MAX_ID
from playdeck.models import Project
from playdeck.problems import OrjsonResponse
from playdeck.projects.access import ProjectAccess
from playdeck.projects.dependencies import project_access
from playdeck.service_accounts import service
from playdeck.service_accounts.schemas import (
    GlobalServiceAccountCreate,
    ProjectServiceAccountCreate,
    ServiceAccount,
)

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
Owner = tuple[Principal, Project | None]


def _of_project(access: Any) -> Owner:
    assert isinstance(access, ProjectAccess)
    return access.principal, access.project


def _global(access: Any) -> Owner:
    assert isinstance(access, Principal)
    return access, None


def _build(
    prefix: str,
    gate: Depends,
    owner_of: Callable[[Any], Owner],
    create_schema: type[ProjectServiceAccountCreate] | type[GlobalServiceAccountCreate],
) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["service accounts"])
    Gate = Annotated[object, gate]  # noqa: N806 - a type alias, local to the router built

    @router.get("", response_model=list[ServiceAccount])
    def list_service_accounts(session: SessionDep, access: Gate) -> list[ServiceAccount]:
        """The service accounts, by name."""
        _principal, project = owner_of(access)
        return [ServiceAccount.of(*row) for row in service.list_accounts(session, project=project)]

    @router.post("", response_model=ServiceAccount, status_code=201)
    def create_service_account(
        data: create_schema,  # type: ignore[valid-type]
        session: SessionDep,
        settings: SettingsDep,
        client: ClientDep,
        access: Gate,
    ) -> ServiceAccount:
        """Create a service account: an identity of the project (or the instance), not of a
        person; it works through its API keys and never signs in. 409 for a taken name."""
        principal, project = owner_of(access)
        created = service.create(
            session,
            principal=principal,
            settings=settings,
            data=data,
            project=project,
            client=client,
        )
        return ServiceAccount.of(*created)

    @router.delete("/{account_id}", status_code=204)
    def delete_service_account(
        account_id: Id, session: SessionDep, client: ClientDep, access: Gate
    ) -> Response:
        """Delete the account; its keys stop working at once."""
        principal, project = owner_of(access)
        service.delete(
            session, principal=principal, project=project, account_id=account_id, client=client
        )
        return Response(status_code=204)

    @router.get("/{account_id}/keys", response_model=list[ApiKey])
    def list_service_account_keys(
        account_id: Id, session: SessionDep, access: Gate
    ) -> list[ApiKey]:
        """The account's keys with their last use (never the keys themselves)."""
        _principal, project = owner_of(access)
        _user, rows = service.list_keys(session, project=project, account_id=account_id)
        return [ApiKey.of(row, key_project) for row, key_project in rows]

    @router.post("/{account_id}/keys", response_model=ApiKeyCreated, status_code=201)
    def create_service_account_key(
        account_id: Id, data: ApiKeyCreate, session: SessionDep, client: ClientDep, access: Gate
    ) -> OrjsonResponse:
        """A key of the account (scopes and expiry as for anyone's key); a project's account's
        keys are restricted to the project. Shown this once."""
        principal, project = owner_of(access)
        created = service.create_key(
            session,
            principal=principal,
            project=project,
            account_id=account_id,
            data=data,
            client=client,
        )
        body = ApiKeyCreated(
            **ApiKey.of(created.row, created.project).model_dump(), key=created.key
        )
        return OrjsonResponse(body.model_dump(mode="json"), status_code=201, headers=NO_STORE)

    @router.delete("/{account_id}/keys/{key_id}", status_code=204)
    def revoke_service_account_key(
        account_id: Id, key_id: Id, session: SessionDep, client: ClientDep, access: Gate
    ) -> Response:
        """Revoke one of the account's keys at once."""
        principal, project = owner_of(access)
        service.revoke_key(
            session,
            principal=principal,
            project=project,
            account_id=account_id,
            key_id=key_id,
            client=client,
        )
        return Response(status_code=204)

    return router


project_router = _build(
    "/api/projects/{ref}/service-accounts",
    project_access(Permission.MEMBERS_MANAGE),
    _of_project,
    ProjectServiceAccountCreate,
)
global_router = _build(
    "/api/admin/service-accounts",
    authorize(Permission.USERS_ADMIN),
    _global,
    GlobalServiceAccountCreate,
)
