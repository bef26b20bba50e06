"""Reads the pages need that no domain service offers. Callers pass ids of projects they have
already loaded through a service (which applied the visibility rules); nothing here checks
permissions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playdeck.models import Run

MAX_BRANCHES = 100
BRANCH_SCAN = 2000


def recent_runs(
    session: Session, project_ids: Sequence[int], *, per_project: int
) -> dict[int, list[Run]]:
    """The latest ``per_project`` runs of each project, oldest first (for sparklines).

    One index seek per project (``ix_runs_project_started``): the overview shows a page of
    projects, and a per-project ``LIMIT`` stays cheap however long each history is, where a
    window function would read every run of every project.
    """
    found: dict[int, list[Run]] = {}
    for project_id in project_ids:
        rows = list(
            session.scalars(
                select(Run)
                .where(Run.project_id == project_id)
                .order_by(Run.started_at.desc(), Run.id.desc())
                .limit(per_project)
            )
        )
        rows.reverse()
        found[project_id] = rows
    return found


def branches(session: Session, project_id: int, *, limit: int = MAX_BRANCHES) -> list[str]:
    """Branch names of the project's latest runs, most recently run first (suggestions for the
    branch filter). Only the newest ``BRANCH_SCAN`` runs are read, so the cost does not grow
    with the project's history; the filter accepts any name anyway."""
    recent = (
        select(Run.branch, Run.started_at)
        .where(Run.project_id == project_id, Run.branch.is_not(None))
        .order_by(Run.started_at.desc(), Run.id.desc())
        .limit(BRANCH_SCAN)
        .subquery()
    )
    query = (
        select(recent.c.branch)
        .group_by(recent.c.branch)
        .order_by(func.max(recent.c.started_at).desc())
        .limit(limit)
    )
    return [name for name in session.scalars(query) if name]
