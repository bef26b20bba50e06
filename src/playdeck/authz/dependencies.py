"""The route gate as a FastAPI dependency: ``authorize(permission)`` resolves the caller's
principal and applies ``authz.service.check_route`` to it.

Kept apart from ``authz.service`` so that the policy itself imports no web framework: services,
the CLI and the ingest worker process read it without FastAPI (dependencies point down: this
module uses the service, never the other way).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import Depends

from playdeck.auth.dependencies import PrincipalDep
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import check_route
from playdeck.deps import SettingsDep
from playdeck.errors import Forbidden
from playdeck.twofactor.enforcement import ENROLMENT_REQUIRED, ENROLMENT_REQUIRED_CODE


def _public() -> None:
    """Public routes resolve no credential at all: a stale cookie must not break /healthz."""


def authorize(permission: Permission, *, before_two_factor: bool = False) -> Any:
    """Dependency that gates the route on ``permission`` and yields the principal. A route on
    one project uses ``projects.dependencies.project_access`` instead (a run:
    ``runs.access``), which also loads the object.

    ``before_two_factor``: the route stays open to an administrator held to enrolling a second
    factor (``PLAYDECK_REQUIRE_TWO_FACTOR_FOR_ADMINS``): enrolment itself, signing out, ``me``.
    Every other route answers them 403 ``two_factor_enrolment_required``."""
    if permission is Permission.PUBLIC:
        public = _public
        public.permission = permission  # type: ignore[attr-defined]
        return Depends(public)

    def dependency(principal: PrincipalDep, settings: SettingsDep) -> Principal:
        if principal.must_enrol_two_factor and not before_two_factor:
            raise Forbidden(ENROLMENT_REQUIRED, code=ENROLMENT_REQUIRED_CODE)
        if settings.public_read:
            principal = replace(principal, public_read=True)
        check_route(
            principal,
            permission,
            public_read=settings.public_read,
            users_can_create_projects=settings.users_can_create_projects,
        )
        return principal

    dependency.permission = permission  # type: ignore[attr-defined]  # read by the route-table test
    return Depends(dependency)


def declared_permission(dependency: Any) -> Permission | None:
    """The permission a route dependency declares, if it is one of ``authorize``'s."""
    value = getattr(dependency, "permission", None)
    return value if isinstance(value, Permission) else None
