"""Query and path values of the pages, parsed the way a person types them.

GET forms send every field, empty ones as ``""``: an empty filter means "no filter". A page id
that is not a positive integer is a page that does not exist (404), not a validation error.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import Query
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import check_route, project_permissions
from playdeck.errors import AppError, InvalidInput, NotFound
from playdeck.kit.pagination import MAX_ID
from playdeck.models import Project
from playdeck.settings import Settings

TextQuery = Annotated[str | None, Query(max_length=200)]
CursorQuery = Annotated[str | None, Query(max_length=1000)]


def page_id(value: str, *, what: str) -> int:
    """The id in a page's path; anything but a positive integer in range is a 404."""
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise NotFound(f"{what} not found")
    return int(value)


def page_run_id(run_id: str) -> int:
    """A run page's ``{run_id}`` (a dependency, for ``runs.access.run_access``)."""
    return page_id(run_id, what="Run")


def text(value: str | None) -> str | None:
    """A text filter: stripped, ``None`` when blank."""
    if value is None:
        return None
    value = value.strip()
    return value or None


@dataclass(frozen=True, slots=True)
class TextFilters:
    """A list page's text filters, declared by a subclass whose fields are its query values
    (``TextQuery``) and taken as ``Annotated[Subclass, Depends()]``: each value as ``text``
    reads it, blank meaning no filter."""

    def __post_init__(self) -> None:
        for each in fields(self):
            object.__setattr__(self, each.name, text(getattr(self, each.name)))

    @property
    def active(self) -> bool:
        """Whether any filter is set (the page offers to clear them)."""
        return any(getattr(self, each.name) for each in fields(self))


def day(value: str | None, *, name: str) -> date | None:
    """A ``YYYY-MM-DD`` date input; ``None`` when blank, 422 when malformed."""
    value = text(value)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a date (YYYY-MM-DD)", code="invalid_date") from None


def day_start(value: date | None) -> datetime | None:
    """Midnight UTC at the start of ``value``."""
    return None if value is None else datetime.combine(value, time(), UTC)


def day_after(value: date | None) -> datetime | None:
    """Midnight UTC at the end of ``value``: an inclusive "until" date as an exclusive bound."""
    return None if value is None else datetime.combine(value + timedelta(days=1), time(), UTC)


def may(principal: Principal, permission: Permission, settings: Settings) -> bool:
    """Whether the route gate lets ``principal`` use ``permission`` (to show or hide controls;
    the action's own route checks again)."""
    try:
        check_route(
            principal,
            permission,
            public_read=settings.public_read,
            users_can_create_projects=settings.users_can_create_projects,
        )
    except AppError:
        return False
    return True


def may_read_members(session: Session, principal: Principal, project: Project) -> bool:
    """Whether the project's Members tab leads anywhere for this caller (``members:read``)."""
    return Permission.MEMBERS_READ in project_permissions(session, principal, project.id)


def may_edit_project(session: Session, principal: Principal, project: Project) -> bool:
    """Whether the project's Settings tab leads anywhere for this caller (``project:edit``)."""
    return Permission.PROJECT_EDIT in project_permissions(session, principal, project.id)


def may_delete_runs(session: Session, principal: Principal, project: Project) -> bool:
    """Whether a run's page offers pin, unpin and delete (``runs:delete``)."""
    return Permission.RUNS_DELETE in project_permissions(session, principal, project.id)
