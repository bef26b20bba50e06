"""The administration links of the header's user menu.

A fixed list: each page is this package's own (``web.admin_users``, ``web.admin_audit``), and
``tests/web/test_account_pages.py`` proves every link opens its page, so the menu never points
at a 404 without asking the route table on every render.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NavLink:
    label: str
    href: str


ADMIN_LINKS: tuple[NavLink, ...] = (
    NavLink(label="Users", href="/admin/users"),
    NavLink(label="Audit log", href="/admin/audit"),
)
