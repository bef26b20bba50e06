"""Links of the header's user menu that depend on which pages the server has.

Administration pages arrive from several issues; a link shows up once its page exists, so the
menu never points at a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.routing import Match

# (label, candidate paths): the first path the app serves as a page is linked.
ADMIN_PAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Users", ("/admin/users", "/settings/users")),
    ("Audit log", ("/admin/audit",)),
)
# Paths the API serves too (the JWT login API's JSON ``/admin/users``): a browser gets a page there
# only once the dashboard installs it on ``app.state`` under this name (see users.endpoints).
PAGE_HOOKS = {"/admin/users": "admin_users_page"}


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    href: str


def serves_page(request: Request, path: str) -> bool:
    """Whether a browser's GET of ``path`` gets a page (not the 404 fallback, not JSON)."""
    hook = PAGE_HOOKS.get(path)
    if hook is not None and getattr(request.app.state, hook, None) is None:
        return False
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    return any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes)


def admin_links(request: Request) -> list[NavLink]:
    links = []
    for label, paths in ADMIN_PAGES:
        href = next((p for p in paths if serves_page(request, p)), None)
        if href is not None:
            links.append(NavLink(label=label, href=href))
    return links
