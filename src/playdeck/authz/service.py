"""The one authorization path: route-level gate (``authorize``) and project-level ``require``.

Every route declares exactly one permission through ``authorize``; a test walks the route table
and fails for a route that declares none (deny by default).
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from sqlalchemy import ColumnElement, false

from playdeck.auth.dependencies import PrincipalDep
from playdeck.auth.principal import GlobalRole, Principal
from playdeck.authz.permissions import PUBLIC_READ_PERMISSIONS, Permission
from playdeck.deps import SettingsDep
from playdeck.errors import Forbidden, NotFound, Unauthorized

ADMIN_ONLY = frozenset({Permission.USERS_ADMIN, Permission.AUDIT_READ})
REPORTER_PERMISSIONS = frozenset({Permission.RUNS_WRITE, Permission.AUTHENTICATED})


def check_route(principal: Principal, permission: Permission, *, public_read: bool) -> None:
    """Gate on what the route needs before any object is loaded."""
    if permission is Permission.PUBLIC:
        return
    if not principal.is_authenticated:
        if public_read and permission in PUBLIC_READ_PERMISSIONS:
            return
        raise Unauthorized()
    if principal.is_admin:
        return
    if permission in ADMIN_ONLY:
        raise Forbidden("Administrator role required")
    if principal.role is GlobalRole.REPORTER and permission not in REPORTER_PERMISSIONS:
        raise Forbidden("Reporter accounts may only submit results")


def _public() -> None:
    """Public routes resolve no credential at all: a stale cookie must not break /healthz."""


def authorize(permission: Permission) -> Any:
    """Dependency that gates the route on ``permission`` and yields the principal."""
    if permission is Permission.PUBLIC:
        public = _public
        public.permission = permission  # type: ignore[attr-defined]
        return Depends(public)

    def dependency(principal: PrincipalDep, settings: SettingsDep) -> Principal:
        check_route(principal, permission, public_read=settings.public_read)
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]  # read by the route-table test
    return Depends(dependency)


def declared_permission(dependency: Any) -> Permission | None:
    """The permission a route dependency declares, if it is one of ``authorize``'s."""
    value = getattr(dependency, "permission", None)
    return value if isinstance(value, Permission) else None


def require_project(principal: Principal, permission: Permission, project_id: int) -> None:
    """Project-level check, after the object was found. Hidden projects answer 404, not 403."""
    if principal.is_admin:
        return
    if permission is Permission.PROJECT_READ and not principal.is_authenticated:
        return  # public-read mode already passed the route gate
    if principal.role is GlobalRole.REPORTER and permission is Permission.RUNS_WRITE:
        return
    # Project memberships arrive with the authorization issue; until then non-admins see nothing.
    del project_id
    raise NotFound("Project not found")


def visible_projects(principal: Principal) -> ColumnElement[bool] | None:
    """Filter for the projects ``principal`` may read; ``None`` means every project."""
    if principal.is_admin or not principal.is_authenticated:
        return None  # admins see all; anonymous callers only get here in public-read mode
    # Project memberships arrive with the authorization issue; until then non-admins see nothing.
    return false()
