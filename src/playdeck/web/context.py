"""What several pages put in their templates' context the same way: a project page with its
tabs, its crumbs, and a paged list's links.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.errors import AppError
from playdeck.models import Project
from playdeck.projects.access import ProjectAccess
from playdeck.projects.service import get_project
from playdeck.web.errors import Page
from playdeck.web.params import may_edit_project, may_read_members
from playdeck.web.rendering import render, with_query
from playdeck.web.views import PageView


def project_page(
    view: PageView,
    principal: Principal,
    project: Project,
    template: str,
    *,
    tab: str,
    **context: Any,
) -> HTMLResponse:
    """A page under the project's header (``projects/_head.html``): the project, the open
    ``tab``, and whether the Members and Settings tabs lead anywhere for this viewer."""
    session = view.session
    return render(
        view.request,
        template,
        principal=principal,
        project=project,
        tab=tab,
        members_tab=may_read_members(session, principal, project),
        settings_tab=may_edit_project(session, principal, project),
        **context,
    )


def project_page_on(
    view: PageView,
    access: ProjectAccess,
    permission: Permission,
    show: Callable[[PageView, Project, AppError], Response],
) -> Page:
    """A project page (``show``) as the page a refusal is shown on: the project is loaded again
    by its id, with the ``permission`` the page itself needs, in the error layer's reading
    session (the request's objects are expired by the rollback)."""
    principal, ref = access.principal, str(access.project.id)

    def page(session: Session, refusal: AppError) -> Response:
        project = get_project(session, principal=principal, ref=ref, permission=permission)
        return show(view.reading(session), project, refusal)

    return page


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
