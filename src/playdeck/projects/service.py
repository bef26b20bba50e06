"""Project use cases. Services flush; the caller's unit of work commits."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Actor, Trail
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import require_project, visible_projects
from playdeck.errors import Conflict, NotFound
from playdeck.kit.pagination import cursor_int, cursor_str, decode_cursor, encode_cursor
from playdeck.kit.slug import slugify
from playdeck.members import service as members
from playdeck.models import Project, Run
from playdeck.projects import repository
from playdeck.projects.schemas import ProjectCreate, ProjectUpdate
from playdeck.service_accounts import repository as service_accounts
from playdeck.storage.base import BlobStore
from playdeck.storage.gc import cleanup_after_commit, file_hashes
from playdeck.users import repository as users


def _unique_slug(session: Session, name: str) -> str:
    base = slugify(name)
    slug, n = base, 1
    while repository.slug_taken(session, slug):
        n += 1
        slug = f"{base}-{n}"
    return slug


def get_project(
    session: Session, *, principal: Principal, ref: str, permission: Permission
) -> Project:
    """The project, if it exists and ``principal`` may use it for ``permission``; else 404/403."""
    project = repository.get_by_ref(session, ref)
    if project is None:
        raise NotFound("Project not found")
    require_project(session, principal, permission, project.id)
    return project


def list_projects(
    session: Session, *, principal: Principal, q: str | None, cursor: str | None, limit: int
) -> tuple[list[Project], str | None]:
    raw = decode_cursor(cursor, arity=2)
    after = (cursor_str(raw[0]), cursor_int(raw[1])) if raw else None
    rows = repository.list_page(
        session, visible=visible_projects(principal), q=q, after=after, limit=limit
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].name, rows[-1].id])
    return rows, next_cursor


def create_project(
    session: Session, *, data: ProjectCreate, principal: Principal | None = None
) -> Project:
    """Create a project; a global ``user`` creating it becomes its owner (``principal`` is
    ``None`` for creations nobody asked for by hand: the CLI's demo, tests)."""
    if repository.get_by_name(session, data.name) is not None:
        raise Conflict("A project with this name already exists", code="project_exists")
    project = Project(
        name=data.name, slug=_unique_slug(session, data.name), description=data.description
    )
    try:
        # Added inside the SAVEPOINT: if a concurrent create wins the race, rolling back to it
        # also forgets the row, and the rest of the transaction (an ingest) carries on.
        with session.begin_nested():
            session.add(project)
            session.flush()
    except IntegrityError as exc:  # a concurrent create won the race
        raise Conflict("A project with this name already exists", code="project_exists") from exc
    if principal is not None:
        members.add_creator_as_owner(session, project=project, principal=principal)
    return project


def get_or_create_by_name(
    session: Session,
    *,
    name: str,
    description: str | None,
    auto_create: bool,
    principal: Principal | None = None,
) -> Project:
    """The project named ``name``, created when ``auto_create`` allows (its creator, a global
    ``user``, becomes owner). Not allowed to create: 404, as for a project one cannot see."""
    project = repository.get_by_name(session, name)
    if project is not None:
        return project
    if not auto_create:
        raise NotFound("Project not found")
    try:
        return create_project(
            session, data=ProjectCreate(name=name, description=description), principal=principal
        )
    except Conflict:
        found = repository.get_by_name(session, name)
        if found is None:
            raise
        return found


def update_project(session: Session, *, project: Project, data: ProjectUpdate) -> Project:
    if data.name is not None and data.name != project.name:
        if repository.get_by_name(session, data.name) is not None:
            raise Conflict("A project with this name already exists", code="project_exists")
        project.name = data.name
    if "description" in data.model_fields_set:
        project.description = data.description
    if "default_branch" in data.model_fields_set:
        project.default_branch = data.default_branch
    session.flush()
    return project


def delete_project(
    session: Session,
    *,
    project: Project,
    store: BlobStore,
    actor: Actor,
    client: ClientInfo | None = None,
) -> None:
    """Delete the project with its runs; stored files go once the deletion has committed.
    Audit-logged (``project.deleted``)."""
    runs = session.scalar(select(func.count(Run.id)).where(Run.project_id == project.id))
    Trail(session, actor, client).record(
        Action.PROJECT_DELETED, project_id=project.id, project=project.name, runs=runs or 0
    )
    shas = file_hashes(session, select(Run.id).where(Run.project_id == project.id))
    # Its service accounts are its own: their identities go with it (keys, memberships).
    for user_id in service_accounts.user_ids_of_project(session, project.id):
        users.delete_user(session, user_id)
    session.delete(project)
    session.flush()
    cleanup_after_commit(session, store, shas)
