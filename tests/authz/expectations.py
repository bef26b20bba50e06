"""Who may do what, written out from the issue's table (independently of ``authz.permissions``,
so the matrix checks the implementation against the specification, not against itself)."""

from __future__ import annotations

from playdeck.authz.permissions import Permission

from .support import ADMIN, ANONYMOUS, MEMBER, OUTSIDER, OWNER, PROJECT_ADMIN, REPORTER, VIEWER

SIGNED_IN = frozenset({REPORTER, OUTSIDER, VIEWER, MEMBER, PROJECT_ADMIN, OWNER, ADMIN})
USERS = frozenset({OUTSIDER, VIEWER, MEMBER, PROJECT_ADMIN, OWNER, ADMIN})
READERS = frozenset({VIEWER, MEMBER, PROJECT_ADMIN, OWNER, ADMIN})
CONTRIBUTORS = frozenset({MEMBER, PROJECT_ADMIN, OWNER, ADMIN})
MANAGERS = frozenset({PROJECT_ADMIN, OWNER, ADMIN})
OWNERS = frozenset({OWNER, ADMIN})

ALLOWED: dict[Permission, frozenset[str]] = {
    Permission.AUTHENTICATED: SIGNED_IN,
    Permission.PROJECTS_LIST: USERS,
    Permission.PROJECT_CREATE: USERS,
    Permission.PROJECT_READ: READERS,
    Permission.MEMBERS_READ: READERS,
    # In Alpha, members and up. Reporters submit to any project *no user owns*; Alpha has an
    # owner, so a reporter naming it is refused (project-name squatting: docs/security.md;
    # tests/security/test_project_squatting.py proves a reporter's own projects still work).
    Permission.RUNS_WRITE: CONTRIBUTORS,
    Permission.SPECS_WRITE: CONTRIBUTORS,
    Permission.RUNS_REQUEST: CONTRIBUTORS,
    Permission.TESTS_QUARANTINE: CONTRIBUTORS,
    Permission.RUNS_DELETE: MANAGERS,
    Permission.PROJECT_EDIT: MANAGERS,
    Permission.MEMBERS_MANAGE: MANAGERS,
    Permission.OWNERS_MANAGE: OWNERS,
    Permission.PROJECT_DELETE: OWNERS,
    Permission.USERS_ADMIN: frozenset({ADMIN}),
    Permission.AUDIT_READ: frozenset({ADMIN}),
}


def denied_status(persona: str, *, scoped: bool) -> int:
    """What a persona without the permission gets: 401 anonymous; on a route reaching Alpha,
    404 for a user who cannot read it (exactly like a missing project); otherwise 403."""
    if persona == ANONYMOUS:
        return 401
    if scoped and persona == OUTSIDER:
        return 404
    return 403


def expected_status(
    persona: str, permission: Permission, *, ok: int, scoped: bool, filtered: bool = False
) -> int:
    """``filtered``: the route lists what the caller may read, so every user gets an answer."""
    if permission is Permission.PUBLIC or persona in ALLOWED[permission]:
        return ok
    if filtered and persona in USERS:
        return ok
    return denied_status(persona, scoped=scoped)
