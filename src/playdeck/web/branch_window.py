"""The window and branch of a project's per-branch pages (flaky tests, failure groups): the
pages' twin of ``runs.analytics.endpoints.branch_window``, read from the query the form of
``projects/_window_branch.html`` sends, and the choices that form offers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from playdeck.deps import SessionDep
from playdeck.models import Project
from playdeck.projects.access import ProjectReader
from playdeck.runs.analytics import service as analytics_service
from playdeck.web.rendering import with_query

WINDOWS = (7, 14, 30, 90)
DEFAULT_DAYS = 30
MAX_DAYS = 365


@dataclass(frozen=True, slots=True)
class ChosenWindow:
    """The days and the branch a page shows (``branch`` ``None``: every branch)."""

    days: int
    branch: str | None

    def limited(self, limit: int) -> analytics_service.BranchWindow:
        return analytics_service.BranchWindow(days=self.days, limit=limit, branch=self.branch)


def chosen_window(
    session: SessionDep,
    access: ProjectReader,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = DEFAULT_DAYS,
    branch: Annotated[str | None, Query(max_length=300)] = None,
) -> ChosenWindow:
    # ``branch=`` (the empty choice): every branch; no parameter: the default branch.
    chosen = analytics_service.resolve_branch(
        session, access.project, branch=branch or None, all_branches=branch == ""
    )
    return ChosenWindow(days=days, branch=chosen)


WindowDep = Annotated[ChosenWindow, Depends(chosen_window)]


def window_choices(
    request: Request, session: Session, project: Project, **reset: str | None
) -> dict[str, Any]:
    """What the form offers: ``windows``, each with its link (this page's query, less the
    parameters ``reset`` names), and ``branches``."""
    return {
        "windows": [(d, with_query(request, days=d, **reset)) for d in WINDOWS],
        "branches": analytics_service.branches(session, project),
    }
