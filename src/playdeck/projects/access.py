"""Project access, decided in one place: what the route dependency
``projects.dependencies.project_access(permission)`` answers with, and, for a submit that names
its project in the body, ``project_for_submit``.

Both answer in the one order that does not leak what exists: the route gate first (401
anonymous, 403 for a global role that can never have the permission), then the project (404
when it is missing *or* hidden from the caller), then the caller's right in it (403). This
module knows nothing of HTTP: services and the ingest worker process use it without FastAPI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from playdeck.auth.principal import GlobalRole, Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import check_delivery_by_name, require_project
from playdeck.errors import NotFound
from playdeck.models import Project
from playdeck.projects.service import get_or_create_by_name

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ProjectAccess:
    """A project and the principal allowed to use it for the route's permission."""

    project: Project
    principal: Principal


def found_in_project(
    session: Session,
    principal: Principal,
    found: tuple[T, Project] | None,
    *,
    permission: Permission,
    missing: str,
) -> tuple[T, Project]:
    """An object looked up by its own id, with its project, when ``principal`` may use it for
    ``permission``. A missing object and one in a project hidden from the caller are the same
    404 ``missing``; an object the caller may read but not act on is a 403."""
    if found is None:
        raise NotFound(missing)
    require_project(session, principal, permission, found[1].id, missing=missing)
    return found


def may_auto_create(principal: Principal, *, auto_create: bool, users_can_create: bool) -> bool:
    """Whether a submit naming an unknown project may create it: ``PLAYDECK_AUTO_CREATE_PROJECTS``
    for admins and reporters, and for users also ``PLAYDECK_USERS_CAN_CREATE_PROJECTS``."""
    if not auto_create:
        return False
    if principal.role is GlobalRole.USER:
        return users_can_create
    return principal.role in (GlobalRole.ADMIN, GlobalRole.REPORTER)


def project_for_submit(
    session: Session,
    *,
    principal: Principal,
    name: str,
    description: str | None,
    auto_create: bool,
    users_can_create: bool,
) -> ProjectAccess:
    """The project a submitted run names, for ``runs:write``: created when it does not exist
    and the caller may create it (its creator, a global ``user``, becomes owner); otherwise a
    missing project is a 404, exactly like one the caller may not see. A caller whose right to
    write comes from a global role may not deliver by name into a project users own
    (``authz.service.check_delivery_by_name``)."""
    project = get_or_create_by_name(
        session,
        name=name,
        description=description,
        auto_create=may_auto_create(
            principal, auto_create=auto_create, users_can_create=users_can_create
        ),
        principal=principal,
    )
    require_project(session, principal, Permission.RUNS_WRITE, project.id)
    check_delivery_by_name(session, principal, project)
    return ProjectAccess(project=project, principal=principal)
