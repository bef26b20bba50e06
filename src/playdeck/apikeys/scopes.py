"""What each API-key scope grants. A key without scopes has every right of its owner; a key with
scopes has, of its owner's rights, only those its scopes name."""

from __future__ import annotations

from enum import StrEnum

from playdeck.authz.permissions import Permission


class Scope(StrEnum):
    RUNS_WRITE = "runs:write"
    READ = "read"


SCOPE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Scope.RUNS_WRITE: frozenset({Permission.RUNS_WRITE}),
    Scope.READ: frozenset({Permission.PROJECTS_LIST, Permission.PROJECT_READ}),
}
# "Who am I" (GET /api/auth/me) works with any key: it tells a CI job which account it acts as.
ANY_KEY_PERMISSIONS = frozenset({Permission.AUTHENTICATED})


def scopes_allow(scopes: frozenset[str], permission: Permission) -> bool:
    """Whether a key restricted to ``scopes`` (non-empty) may use ``permission``."""
    if permission in ANY_KEY_PERMISSIONS:
        return True
    return any(permission in SCOPE_PERMISSIONS.get(scope, frozenset()) for scope in scopes)
