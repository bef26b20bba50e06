"""docs/security.md shows the permission tables people read; they must say what the code does."""

from __future__ import annotations

import re
from pathlib import Path

from playdeck.auth.principal import GlobalRole
from playdeck.authz.permissions import (
    GLOBAL_ROLE_PERMISSIONS,
    PROJECT_PERMISSIONS,
    PROJECT_ROLE_PERMISSIONS,
    Permission,
    ProjectRole,
)

VALUES = frozenset(p.value for p in Permission)
SECURITY = Path(__file__).parents[2] / "docs" / "security.md"
ARCHITECTURE = Path(__file__).parents[2] / "docs" / "ARCHITECTURE.md"


def _table(text: str, name: str) -> tuple[list[str], list[list[str]]]:
    block = text.split(f"<!-- {name}:start -->", 1)[1].split(f"<!-- {name}:end -->", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in block.strip().splitlines()
    ]
    return rows[0], rows[2:]


def _permission(cell: str) -> Permission:
    match = re.match(r"`([a-z:]+)`", cell)
    assert match, cell
    return Permission(match.group(1))


def test_project_role_table_in_the_docs_is_the_one_in_the_code() -> None:
    for doc in (SECURITY, ARCHITECTURE):
        header, rows = _table(doc.read_text(), "project-roles")
        roles = [ProjectRole(h) for h in header[1:]]
        documented = {
            role: frozenset(_permission(r[0]) for r in rows if r[1 + i].startswith("yes"))
            for i, role in enumerate(roles)
        }
        assert documented == dict(PROJECT_ROLE_PERMISSIONS), doc.name
        assert {_permission(r[0]) for r in rows} == PROJECT_PERMISSIONS


def test_global_role_table_in_the_docs_is_the_one_in_the_code() -> None:
    header, rows = _table(SECURITY.read_text(), "global-roles")
    roles = [GlobalRole(h) for h in header[1:]]
    for i, role in enumerate(roles):
        granted: set[Permission] = set()
        for row in rows:
            if not row[1 + i].startswith("yes"):
                continue
            if row[0].startswith("every project permission"):
                granted |= PROJECT_PERMISSIONS
            else:
                named = re.findall(r"`([a-z:]+)`", row[0])
                granted |= {Permission(p) for p in named if p in VALUES}
        assert granted == GLOBAL_ROLE_PERMISSIONS[role] - {Permission.PUBLIC}, role
