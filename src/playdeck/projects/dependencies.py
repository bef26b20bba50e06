"""The route dependency of every route on one project, named by its ``{ref}`` path value.

Apart from ``projects.access`` (what the answer is) so that the access rules import no web
framework; this module only binds them to FastAPI.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep
from playdeck.projects.access import ProjectAccess
from playdeck.projects.service import get_project


def project_access(permission: Permission) -> Any:
    """Dependency for a route on one project, named by its ``{ref}`` path value: the permission
    is declared once (the route-table test reads it here) and the handler receives the project
    and the principal together."""

    # A default, not ``Annotated``: annotations are strings here, and ``permission`` is local.
    def dependency(
        ref: str, session: SessionDep, principal: Principal = authorize(permission)
    ) -> ProjectAccess:
        project = get_project(session, principal=principal, ref=ref, permission=permission)
        return ProjectAccess(project=project, principal=principal)

    dependency.permission = permission  # type: ignore[attr-defined]
    return Depends(dependency)


# A route that reads one project (its runs, tests, failures): the commonest access.
ProjectReader = Annotated[ProjectAccess, project_access(Permission.PROJECT_READ)]
