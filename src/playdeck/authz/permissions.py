"""Permissions as data: what each route needs, and which roles grant it."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    # No credential needed (health, login, setup, docs).
    PUBLIC = "public"
    # Any signed-in principal (own profile, logout).
    AUTHENTICATED = "authenticated"

    PROJECTS_LIST = "projects:list"
    PROJECT_CREATE = "project:create"
    PROJECT_READ = "project:read"
    RUNS_WRITE = "runs:write"
    SPECS_WRITE = "specs:write"
    RUNS_REQUEST = "runs:request"
    RUNS_DELETE = "runs:delete"
    PROJECT_EDIT = "project:edit"
    MEMBERS_MANAGE = "members:manage"
    OWNERS_MANAGE = "owners:manage"
    PROJECT_DELETE = "project:delete"

    USERS_ADMIN = "users:admin"
    AUDIT_READ = "audit:read"


# Permissions an anonymous caller gets when PLAYDECK_PUBLIC_READ is on.
PUBLIC_READ_PERMISSIONS = frozenset({Permission.PROJECTS_LIST, Permission.PROJECT_READ})
