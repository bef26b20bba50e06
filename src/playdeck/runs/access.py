"""Run access: ``run_access(permission)``, the dependency of a route on one run (its
``{run_id}``), the run-scoped twin of ``projects.access.project_access``.

The route gate first (401, 403 by global role; before the id is even validated), then the run:
404 when it is missing or in a project hidden from the caller, 403 when the caller may read the
project but not do this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends

from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import authorize
from playdeck.deps import SessionDep
from playdeck.models import Project, Run
from playdeck.runs import service
from playdeck.runs.filters import IdPath


@dataclass(frozen=True, slots=True)
class RunAccess:
    """A run, its project, and the principal allowed to use it for the route's permission."""

    run: Run
    project: Project
    principal: Principal


def run_access(permission: Permission) -> Any:
    """Dependency for a route on one run: the permission is declared once (the route-table test
    reads it here); the handler receives the run, its project and the principal."""

    # A default, not ``Annotated``: annotations are strings here, and ``permission`` is local.
    def dependency(
        run_id: IdPath, session: SessionDep, principal: Principal = authorize(permission)
    ) -> RunAccess:
        run, project = service.get_run(
            session, principal=principal, run_id=run_id, permission=permission
        )
        return RunAccess(run=run, project=project, principal=principal)

    dependency.permission = permission  # type: ignore[attr-defined]
    return Depends(dependency)
