"""What a page handler takes besides its fields: ``ViewDep``, the request with its session, the
server's settings and the base of its links (``web.forms.PostDep`` is the same with the client
a form's audit record names), and the route gates several page modules declare.

The route's access dependency stays a parameter of its own (one of the gates here, or
``project_access``/``run_access``), so the route table still reads each route's permission.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import BaseUrlDep, SessionDep, SettingsDep
from playdeck.runs.access import RunAccess, run_access
from playdeck.settings import Settings
from playdeck.web.params import page_run_id

SignedIn = Annotated[Principal, authorize(Permission.AUTHENTICATED)]
Reader = Annotated[Principal, authorize(Permission.PROJECT_READ)]
ProjectLister = Annotated[Principal, authorize(Permission.PROJECTS_LIST)]
# A run page's run (its ``{run_id}`` read as a page reads ids: anything else is a 404).
RunReader = Annotated[RunAccess, run_access(Permission.PROJECT_READ, run_id=page_run_id)]


@dataclass(frozen=True, slots=True)
class PageView:
    """The request a page answers, its session, the server's settings, and the base of the
    links it shows (``deps.BaseUrlDep``: the public URL, else the one the request came to)."""

    request: Request
    session: Session
    settings: Settings
    links: str

    def reading(self, session: Session) -> PageView:
        """The same page in ``session``: the error layer's read-only session, in which a refused
        form's page is rendered once the request's transaction has ended."""
        return replace(self, session=session)


def page_view(
    request: Request, session: SessionDep, settings: SettingsDep, links: BaseUrlDep
) -> PageView:
    return PageView(request=request, session=session, settings=settings, links=links)


ViewDep = Annotated[PageView, Depends(page_view)]
