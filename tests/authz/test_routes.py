"""Deny by default: every route of the app declares exactly one permission."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI

from playdeck.app import create_app
from playdeck.authz.permissions import Permission
from playdeck.authz.service import authorize
from playdeck.settings import Settings

from .routes import app_routes


def test_every_route_declares_exactly_one_permission(tmp_path: Path) -> None:
    app = create_app(Settings(_env_file=None, data_dir=tmp_path))
    routes = app_routes(app)
    assert len(routes) > 40
    undeclared = [str(r) for r in routes if len(r.permissions) != 1]
    assert undeclared == []


def test_the_route_walker_sees_nested_routers_and_fails_an_undeclared_route() -> None:
    """The check above would catch a route that forgot ``authorize``, even two routers deep."""
    inner = APIRouter(prefix="/inner")

    @inner.get("/open")
    def forgot() -> None: ...

    @inner.get("/closed")
    def declared(_: None = authorize(Permission.USERS_ADMIN)) -> None: ...

    outer = APIRouter(prefix="/outer")
    outer.include_router(inner)
    app = FastAPI()
    app.include_router(outer)
    found = {str(r): r.permissions for r in app_routes(app)}
    assert found == {
        "GET /outer/inner/open": [],
        "GET /outer/inner/closed": [Permission.USERS_ADMIN],
    }
