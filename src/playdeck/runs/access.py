"""Run access: ``run_access(permission)``, the dependency of a route on one run (its
``{run_id}``), the run-scoped twin of ``projects.dependencies.project_access``.

The route gate first (401, 403 by global role; before the id is even validated), then the run:
404 when it is missing or in a project hidden from the caller, 403 when the caller may read the
project but not do this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends

from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
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


def path_run_id(run_id: IdPath) -> int:
    """The API's ``{run_id}``: a positive integer in range, else 422."""
    return run_id


def run_access(permission: Permission, *, run_id: Callable[..., int] = path_run_id) -> Any:
    """Dependency for a route on one run: the permission is declared once (the route-table test
    reads it here); the handler receives the run, its project and the principal. ``run_id`` is
    the dependency that reads the id from the path (pages answer 404 for a malformed one)."""

    # Defaults, not ``Annotated``: annotations are strings here, and the arguments are local.
    def dependency(
        session: SessionDep,
        principal: Principal = authorize(permission),
        found_id: int = Depends(run_id),
    ) -> RunAccess:
        run, project = service.get_run(
            session, principal=principal, run_id=found_id, permission=permission
        )
        return RunAccess(run=run, project=project, principal=principal)

    dependency.permission = permission  # type: ignore[attr-defined]
    return Depends(dependency)
