from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from playdeck.audit.service import Actor
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import BlobStoreDep, CursorQuery, LimitQuery, SessionDep
from playdeck.kit.pagination import DEFAULT_LIMIT
from playdeck.projects import service
from playdeck.projects.access import ProjectAccess
from playdeck.projects.dependencies import ProjectReader, project_access
from playdeck.projects.schemas import Project, ProjectCreate, ProjectPage, ProjectUpdate

router = APIRouter(prefix="/api/projects", tags=["projects"])


@router.get("", response_model=ProjectPage)
def list_projects(
    session: SessionDep,
    principal: Annotated[Principal, authorize(Permission.PROJECTS_LIST)],
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> ProjectPage:
    """Projects the caller may read, by name."""
    rows, next_cursor = service.list_projects(
        session, principal=principal, q=q, cursor=cursor, limit=limit
    )
    return ProjectPage(items=[Project.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("", response_model=Project, status_code=201)
def create_project(
    data: ProjectCreate,
    session: SessionDep,
    principal: Annotated[Principal, authorize(Permission.PROJECT_CREATE)],
) -> Project:
    """Create a project; a user (not an administrator) who creates it becomes its owner."""
    return Project.model_validate(service.create_project(session, data=data, principal=principal))


@router.get("/{ref}", response_model=Project)
def get_project(
    access: ProjectReader,
) -> Project:
    """A project by id or slug."""
    return Project.model_validate(access.project)


@router.patch("/{ref}", response_model=Project)
def update_project(
    data: ProjectUpdate,
    session: SessionDep,
    access: Annotated[ProjectAccess, project_access(Permission.PROJECT_EDIT)],
) -> Project:
    project = service.update_project(session, project=access.project, data=data)
    return Project.model_validate(project)


@router.delete("/{ref}", status_code=204)
def delete_project(
    session: SessionDep,
    store: BlobStoreDep,
    client: ClientDep,
    access: Annotated[ProjectAccess, project_access(Permission.PROJECT_DELETE)],
) -> Response:
    """Delete a project, its runs and every stored file no other run references."""
    service.delete_project(
        session,
        project=access.project,
        store=store,
        actor=Actor.of(access.principal),
        client=client,
    )
    return Response(status_code=204)
