"""What several pages put in their templates' context the same way: a project page's tabs and
crumbs, and a paged list's links.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.models import Project
from playdeck.web.params import may_edit_project, may_read_members
from playdeck.web.rendering import with_query


def project_tabs(
    session: Session, principal: Principal, project: Project, *, tab: str
) -> dict[str, Any]:
    """The project page's header (``projects/_head.html``): the project, the open ``tab``, and
    whether the Members and Settings tabs lead anywhere for this viewer."""
    return {
        "project": project,
        "tab": tab,
        "members_tab": may_read_members(session, principal, project),
        "settings_tab": may_edit_project(session, principal, project),
    }


def project_crumbs(project: Project, *more: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """Crumbs from the projects list through ``project`` to ``more``."""
    return (("Projects", "/projects"), (project.name, f"/projects/{project.slug}"), *more)


def pager(request: Request, *, cursor: str | None, next_cursor: str | None) -> dict[str, Any]:
    """A keyset-paged list's links: ``next_url`` to the page after this one (none on the last
    page) and ``first_url`` back to the start (none on the first page). Both keep the page's
    other query values, such as its filters."""
    return {
        "next_url": with_query(request, cursor=next_cursor) if next_cursor else None,
        "first_url": with_query(request, cursor=None) if cursor else None,
    }
