"""Permissions as data: what each route needs, and which roles grant it.

Two kinds of role meet here. A user's *global* role (``admin | user | reporter``) says what they
may do anywhere; a *project* role (``owner | admin | member | viewer``, one membership row per
project) says what a global ``user`` may do inside that project. ``docs/security.md`` shows the
same tables for people; a test checks the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from playdeck.auth.principal import GlobalRole


class Permission(StrEnum):
    # No credential needed (health, login, setup, docs).
    PUBLIC = "public"
    # Any signed-in principal (own profile, logout).
    AUTHENTICATED = "authenticated"

    PROJECTS_LIST = "projects:list"
    PROJECT_CREATE = "project:create"
    PROJECT_READ = "project:read"
    # Who is in the project: user data, so never open to anonymous public-read callers.
    MEMBERS_READ = "members:read"
    RUNS_WRITE = "runs:write"
    SPECS_WRITE = "specs:write"
    RUNS_REQUEST = "runs:request"
    # Quarantine a test (its failures stop failing CI) and lift it.
    TESTS_QUARANTINE = "tests:quarantine"
    RUNS_DELETE = "runs:delete"
    PROJECT_EDIT = "project:edit"
    MEMBERS_MANAGE = "members:manage"
    OWNERS_MANAGE = "owners:manage"
    PROJECT_DELETE = "project:delete"

    USERS_ADMIN = "users:admin"
    AUDIT_READ = "audit:read"


class RoleSource(StrEnum):
    """Who gave a user a role: an administrator or owner (``manual``), or the sign-in
    provider's claims (``provider``, re-applied at each single sign-on). Provider rules never
    change a ``manual`` role."""

    MANUAL = "manual"
    PROVIDER = "provider"


class ProjectRole(StrEnum):
    """A user's role in one project, strongest first."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        """Higher is stronger: ``viewer`` 0 ... ``owner`` 3."""
        return len(PROJECT_ROLES) - 1 - PROJECT_ROLES.index(self)


PROJECT_ROLES: tuple[ProjectRole, ...] = tuple(ProjectRole)

_VIEWER = frozenset({Permission.PROJECT_READ, Permission.MEMBERS_READ})
_MEMBER = _VIEWER | {
    Permission.RUNS_WRITE,
    Permission.SPECS_WRITE,
    Permission.RUNS_REQUEST,
    Permission.TESTS_QUARANTINE,
}
_ADMIN = _MEMBER | {Permission.RUNS_DELETE, Permission.PROJECT_EDIT, Permission.MEMBERS_MANAGE}
_OWNER = _ADMIN | {Permission.OWNERS_MANAGE, Permission.PROJECT_DELETE}

# What each project role may do inside its project.
PROJECT_ROLE_PERMISSIONS: Mapping[ProjectRole, frozenset[Permission]] = {
    ProjectRole.VIEWER: _VIEWER,
    ProjectRole.MEMBER: _MEMBER,
    ProjectRole.ADMIN: _ADMIN,
    ProjectRole.OWNER: _OWNER,
}

# Permissions that are decided per project (by membership), after the project was found.
PROJECT_PERMISSIONS: frozenset[Permission] = _OWNER

# What each global role may do everywhere, whatever the project. A global ``user`` gets the
# project permissions only through PROJECT_ROLE_PERMISSIONS.
GLOBAL_ROLE_PERMISSIONS: Mapping[GlobalRole, frozenset[Permission]] = {
    GlobalRole.ADMIN: frozenset(Permission),
    GlobalRole.USER: frozenset(
        {Permission.AUTHENTICATED, Permission.PROJECTS_LIST, Permission.PROJECT_CREATE}
    ),
    # A CI identity: submit to any project (creating it by name when allowed), nothing else.
    GlobalRole.REPORTER: frozenset({Permission.AUTHENTICATED, Permission.RUNS_WRITE}),
}

# Permissions an anonymous caller gets when PLAYDECK_PUBLIC_READ is on.
PUBLIC_READ_PERMISSIONS = frozenset({Permission.PROJECTS_LIST, Permission.PROJECT_READ})
