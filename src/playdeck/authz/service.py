"""The one authorization path: route-level gate (``check_route``, which every route reaches
through ``authz.dependencies.authorize``) and project-level ``require_project``.

Every route declares exactly one permission through ``authorize``; a test walks the route table
and fails for a route that declares none (deny by default). The rules themselves are data, in
``authz.permissions``; this module only reads them, and knows nothing of HTTP (services and the
ingest worker process use it without the web framework).

Two steps, always in this order:

1. ``check_route`` (before any object is loaded): 401 for an anonymous caller, 403 when the
   caller's global role can never have the permission (a reporter reading, a user administering).
2. ``require_project`` (after the project was found): a project the caller may not read is a
   404, exactly like a missing one; a project they may read but not change this way is a 403.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false
from sqlalchemy.orm import Session

from playdeck.apikeys.scopes import scopes_allow
from playdeck.auth.principal import CredentialKind, GlobalRole, Principal
from playdeck.authz.permissions import (
    GLOBAL_ROLE_PERMISSIONS,
    PROJECT_PERMISSIONS,
    PROJECT_ROLE_PERMISSIONS,
    PUBLIC_READ_PERMISSIONS,
    Permission,
    ProjectRole,
)
from playdeck.errors import Forbidden, NotFound, Unauthorized
from playdeck.members import repository as members
from playdeck.models import Project

ADMIN_ONLY = frozenset({Permission.USERS_ADMIN, Permission.AUDIT_READ})


def _global_permissions(
    principal: Principal, *, users_can_create_projects: bool
) -> frozenset[Permission]:
    if principal.role is None:
        return frozenset()
    granted = GLOBAL_ROLE_PERMISSIONS[principal.role]
    if principal.role is GlobalRole.USER and not users_can_create_projects:
        granted = granted - {Permission.PROJECT_CREATE}
    return granted


def _key_allows(principal: Principal, permission: Permission, project_id: int | None) -> bool:
    """An API key never has more rights than its owner and may have fewer: only its scopes'
    permissions (when it has scopes), and only in its project (when it names one)."""
    if principal.credential is not CredentialKind.API_KEY:
        return True
    if principal.key_scopes and not scopes_allow(principal.key_scopes, permission):
        return False
    return (
        project_id is None
        or principal.key_project_id is None
        or principal.key_project_id == project_id
    )


def check_route(
    principal: Principal,
    permission: Permission,
    *,
    public_read: bool,
    users_can_create_projects: bool = True,
) -> None:
    """Gate on what the route needs before any object is loaded."""
    if permission is Permission.PUBLIC:
        return
    if not principal.is_authenticated:
        if public_read and permission in PUBLIC_READ_PERMISSIONS:
            return
        raise Unauthorized()
    if not _key_allows(principal, permission, None):
        raise Forbidden("This API key's scopes do not allow this")
    if public_read and permission in PUBLIC_READ_PERMISSIONS:
        return  # what anyone may read, a signed-in caller may read too
    granted = _global_permissions(principal, users_can_create_projects=users_can_create_projects)
    if permission in granted:
        return
    if principal.role is GlobalRole.USER and permission in PROJECT_PERMISSIONS:
        return  # decided per project by require_project, from the membership
    if permission in ADMIN_ONLY:
        raise Forbidden("Administrator role required")
    if principal.role is GlobalRole.REPORTER:
        raise Forbidden("Reporter accounts may only submit results")
    if permission is Permission.PROJECT_CREATE:
        raise Forbidden("Only administrators may create projects on this server")
    raise Forbidden("Not permitted")


def check_delivery_by_name(session: Session, principal: Principal, project: Project) -> None:
    """Refuse to deliver a submit that named ``project`` into a project users own, when the
    caller's right to write it comes only from a global role (project-name squatting).

    A reporter (by key or password) and an administrator's API key may write any project, and a
    submit names its project: a plain user who creates ``payments-ci`` before CI first submits
    would otherwise receive CI's results. So such a caller delivers by name only into projects
    no user owns (made by administrators, reporters or the CLI, or auto-created by this very
    submit), unless it is a member of the project or its key is restricted to that project (an
    explicit choice by whoever made the key). Auth off and interactive admins are unaffected.
    """
    if principal.role is GlobalRole.USER or principal.user_id is None:
        return  # a user's write right comes from membership already
    if principal.role is GlobalRole.ADMIN and principal.credential is not CredentialKind.API_KEY:
        return
    if principal.credential is CredentialKind.API_KEY and principal.key_project_id == project.id:
        return
    if project_role(session, principal, project.id) is not None:
        return
    if members.has_owner(session, project.id):
        raise Forbidden(
            f"Project {project.name!r} belongs to its members, so this credential may not "
            "deliver into it by name; use an API key restricted to that project, or a "
            "member's key",
            code="project_owned_by_members",
        )


def project_role(session: Session, principal: Principal, project_id: int) -> ProjectRole | None:
    """The caller's membership role in the project (``None``: not a member, or not a user)."""
    if principal.user_id is None or not principal.is_authenticated:
        return None
    role = members.role_of(session, project_id=project_id, user_id=principal.user_id)
    return None if role is None else ProjectRole(role)


def project_permissions(
    session: Session, principal: Principal, project_id: int
) -> frozenset[Permission]:
    """Everything ``principal`` may do in the project: global role, plus membership for users."""
    if not principal.is_authenticated:
        # check_route let an anonymous caller through only in public-read mode.
        return PUBLIC_READ_PERMISSIONS
    granted = GLOBAL_ROLE_PERMISSIONS[principal.role] if principal.role is not None else frozenset()
    if principal.public_read:
        granted = granted | PUBLIC_READ_PERMISSIONS
    if principal.role is GlobalRole.USER:
        role = project_role(session, principal, project_id)
        if role is not None:
            granted = granted | PROJECT_ROLE_PERMISSIONS[role]
    return granted


def require_project(
    session: Session,
    principal: Principal,
    permission: Permission,
    project_id: int,
    *,
    missing: str = "Project not found",
) -> None:
    """Project-level check, after the object was found. A project the caller may not read is a
    404 with ``missing``, the very answer the caller gets for an object that does not exist
    (pass "Run not found" when the lookup was by run id); readable but not allowed is a 403."""
    if principal.credential is CredentialKind.API_KEY and principal.key_project_id not in (
        None,
        project_id,
    ):
        raise NotFound(missing)  # a key bound to another project: hidden
    granted = project_permissions(session, principal, project_id)
    if permission in granted and _key_allows(principal, permission, project_id):
        return
    if Permission.PROJECT_READ not in granted:
        raise NotFound(missing)
    raise Forbidden("Your role in this project does not allow this")


# The credentials of a password sign-in: the session cookie and the JWT access token.
PASSWORD_SIGN_IN = frozenset({CredentialKind.SESSION, CredentialKind.ACCESS_TOKEN})


def require_password_sign_in(principal: Principal, *, to: str) -> None:
    """Credentials (one's password, API keys) are managed only after signing in with a password,
    or by anyone while authentication is off: never with an API key, or a restricted key could
    make itself an unrestricted one."""
    if principal.credential in PASSWORD_SIGN_IN or principal.credential is CredentialKind.NONE:
        return
    raise Forbidden(f"Sign in with your password to {to}", code="password_login_required")


def require_own_or_admin(principal: Principal, user_id: int) -> None:
    """Another user's credentials are an administrator's business: to anyone else that user does
    not exist (404, exactly like an unknown id). Reporters, CI identities, manage none at all."""
    if principal.role is GlobalRole.REPORTER:
        raise Forbidden("Reporter accounts may only submit results")
    if not principal.is_admin and principal.user_id != user_id:
        raise NotFound("User not found")


def visible_projects(principal: Principal) -> ColumnElement[bool] | None:
    """Filter on ``Project.id`` for the projects ``principal`` may read; ``None``: every one."""
    if not principal.is_authenticated:
        return None  # anonymous callers only get here in public-read mode
    if principal.role is GlobalRole.ADMIN or principal.public_read:
        visible = None
    elif principal.role is GlobalRole.USER and principal.user_id is not None:
        visible = Project.id.in_(members.project_ids_of(principal.user_id))
    else:
        return false()  # reporters read nothing
    if principal.credential is CredentialKind.API_KEY and principal.key_project_id is not None:
        only_the_keys = Project.id == principal.key_project_id
        return only_the_keys if visible is None else and_(visible, only_the_keys)
    return visible
