"""PLAYDECK_PUBLIC_READ: anonymous callers read results; writes and user data still need a
credential, and signed-in users keep exactly their own rights."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from playdeck.settings import Settings

from .support import OUTSIDER, REPORTER, VIEWER, World, as_, snapshot

PLAYWRIGHT_JSON = Path(__file__).parents[1] / "data" / "playwright" / "report.json"


def test_anonymous_reads_results_of_every_project(
    authz_client: Callable[..., TestClient], world: World
) -> None:
    api = authz_client(public_read=True)
    names = [p["name"] for p in api.get("/api/projects").json()["items"]]
    assert names == ["Alpha", "Beta"]
    for url in (
        f"/api/projects/{world.b.id}",
        "/api/projects/beta/tests",
        "/api/projects/beta/flaky",
        "/api/projects/beta/trends",
        "/api/test-runs",
        f"/api/test-runs/{world.b.run_id}",
        f"/api/test-runs/{world.b.run_id}/tests",
        f"/api/tests/{world.b.test_id}",
        f"/api/tests/{world.b.test_id}/history",
        f"/api/attachments/{world.b.attachment_id}",
        f"/api/reports/{world.b.report_id}/index.html",
        "/",
        "/projects/beta",
        f"/runs/{world.b.run_id}",
    ):
        assert api.get(url).status_code == 200, url
    assert api.get("/api/attachments/987654").status_code == 404


def test_anonymous_writes_and_user_data_still_need_a_credential(
    authz_client: Callable[..., TestClient],
    world: World,
    engine: Engine,
    shared_settings: Settings,
) -> None:
    api = authz_client(public_read=True)
    before = snapshot(engine, shared_settings.files_dir)
    for method, url, body in (
        ("GET", "/api/projects/beta/members", None),
        ("GET", "/api/admin/users", None),
        ("GET", "/api/users", None),
        ("GET", "/admin/users", None),
        ("GET", "/api/admin/audit", None),
        ("GET", "/api/auth/me", None),
        ("POST", "/api/projects", {"name": "Gamma"}),
        ("PATCH", "/api/projects/beta", {"description": "defaced"}),
        ("DELETE", "/api/projects/beta", None),
        ("DELETE", f"/api/test-runs/{world.b.run_id}", None),
        ("POST", "/api/projects/beta/members", {"user_id": world.users[OUTSIDER], "role": "owner"}),
        ("POST", "/projects/beta/members", {"user_id": world.users[OUTSIDER], "role": "owner"}),
        ("PATCH", f"/api/projects/alpha/members/{world.users[OUTSIDER]}", {"role": "owner"}),
        ("POST", "/api/admin/users", {"username": "mallory", "password": "x" * 20}),
    ):
        response = api.request(method, url, json=body)
        assert response.status_code == 401, (method, url)
    submit = api.post(
        "/api/test-runs/submit",
        params={"projectName": "Beta"},
        content=PLAYWRIGHT_JSON.read_bytes(),
        headers={"content-type": "application/json"},
    )
    assert submit.status_code == 401
    assert snapshot(engine, shared_settings.files_dir) == before


def test_signing_in_never_shows_less_than_signing_out(
    authz_client: Callable[..., TestClient],
    world: World,
    engine: Engine,
    shared_settings: Settings,
) -> None:
    """With public read on, a signed-in account reads what an anonymous caller reads, and
    writes only what its roles allow (a project it may read but not change: 403)."""
    api = authz_client(public_read=True)
    for persona in (OUTSIDER, REPORTER, VIEWER):
        headers = as_(api, persona)
        names = [p["name"] for p in api.get("/api/projects", headers=headers).json()["items"]]
        assert names == ["Alpha", "Beta"], persona
        assert api.get(f"/api/test-runs/{world.b.run_id}", headers=headers).status_code == 200
        assert api.get("/api/projects/beta/members", headers=headers).status_code in (403, 404)
    outsider, viewer = as_(api, OUTSIDER), as_(api, VIEWER)
    before = snapshot(engine, shared_settings.files_dir)
    patch = api.patch("/api/projects/beta", json={"description": "x"}, headers=outsider)
    assert patch.status_code == 403
    assert api.delete(f"/api/test-runs/{world.b.run_id}", headers=outsider).status_code == 403
    assert api.delete(f"/api/test-runs/{world.a.run_id}", headers=viewer).status_code == 403
    assert snapshot(engine, shared_settings.files_dir) == before
