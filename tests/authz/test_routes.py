"""Deny by default: every route of the app declares exactly one permission."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from playdeck.app import create_app
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.settings import Settings

from .routes import app_routes
from .support import ADMIN, OUTSIDER, VIEWER, World, as_


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


def test_object_routes_gate_the_caller_before_reading_the_path(
    api: TestClient, world: World
) -> None:
    """``project_access`` and ``run_access`` answer in the gate's order: 401 for an anonymous
    caller even when the path names nothing valid, then the object: 404 for one that does not
    exist (or is hidden), exactly as for a project the caller may not see."""
    for path in ("/api/test-runs/0", "/api/test-runs/abc/tests", "/api/projects/nope/flaky"):
        assert api.get(path).status_code == 401, path
    outsider = as_(api, OUTSIDER)
    assert api.get("/api/projects/nope/flaky", headers=outsider).status_code == 404
    hidden = api.get(f"/api/projects/{world.a.id}/flaky", headers=outsider)
    assert hidden.status_code == 404 and hidden.json()["detail"] == "Project not found"
    missing_run = api.delete("/api/test-runs/999999", headers=as_(api, ADMIN))
    assert missing_run.status_code == 404 and missing_run.json()["detail"] == "Run not found"
    viewer = api.delete(f"/api/test-runs/{world.a.run_id}", headers=as_(api, VIEWER))
    assert viewer.status_code == 403
