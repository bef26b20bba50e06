"""A user of project Alpha probing project Beta's ids gets exactly what a missing id gets:
404, the same body, and nothing changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from playdeck.settings import Settings

from .support import ADMIN, MEMBER, OWNER, PROJECT_ADMIN, World, as_, snapshot

MISSING = 987654321
PLAYWRIGHT_JSON = Path(__file__).parents[1] / "data" / "playwright" / "report.json"


def _probes(world: World, project: str, ids: dict[str, int]) -> list[tuple[str, str]]:
    """(method, url) of every route that reaches one project's objects."""
    return [
        ("GET", f"/api/projects/{project}"),
        ("GET", f"/api/projects/{project}/tests"),
        ("GET", f"/api/projects/{project}/flaky"),
        ("GET", f"/api/projects/{project}/trends"),
        ("GET", f"/api/projects/{project}/failure-groups"),
        ("GET", f"/api/test-runs/{ids['run']}/triage"),
        ("GET", f"/api/test-runs/{ids['run']}/compare?base={ids['run']}"),
        ("GET", f"/api/projects/{project}/members"),
        ("GET", f"/api/test-runs?project={project}"),
        ("GET", f"/api/test-runs/{ids['run']}"),
        ("GET", f"/api/test-runs/{ids['run']}/tests"),
        ("GET", f"/api/tests/{ids['test']}"),
        ("GET", f"/api/tests/{ids['test']}/history"),
        ("GET", f"/api/attachments/{ids['attachment']}"),
        ("GET", f"/traces/{ids['trace']}"),
        ("GET", f"/api/test-runs/{ids['run']}/gate"),
        ("PUT", f"/api/tests/{ids['test']}/quarantine"),
        ("DELETE", f"/api/tests/{ids['test']}/quarantine"),
        ("GET", f"/api/reports/{ids['report']}"),
        ("GET", f"/api/reports/{ids['report']}/index.html"),
        ("PATCH", f"/api/projects/{project}"),
        ("DELETE", f"/api/projects/{project}"),
        ("DELETE", f"/api/test-runs/{ids['run']}"),
        ("POST", f"/api/projects/{project}/members"),
        ("PATCH", f"/api/projects/{project}/members/{world.users[MEMBER]}"),
        ("DELETE", f"/api/projects/{project}/members/{world.users[MEMBER]}"),
    ]


def _body(method: str, url: str, world: World) -> dict[str, object] | None:
    if url.endswith("/quarantine"):
        return {"reason": "mine now"} if method == "PUT" else None
    if method == "PATCH" and "/members/" in url:
        return {"role": "viewer"}
    if method == "PATCH":
        return {"description": "mine now"}
    if method == "POST":
        return {"user_id": world.users[MEMBER], "role": "owner"}
    return None


@pytest.mark.parametrize("persona", [MEMBER, PROJECT_ADMIN, OWNER])
def test_ids_of_another_project_answer_like_missing_ones(
    persona: str, api: TestClient, world: World, engine: Engine, shared_settings: Settings
) -> None:
    headers = as_(api, persona)
    before = snapshot(engine, shared_settings.files_dir)
    beta = {
        "run": world.b.run_id,
        "test": world.b.test_id,
        "attachment": world.b.attachment_id,
        "trace": world.b.trace_id,
        "report": world.b.report_id,
    }
    missing = dict.fromkeys(beta, MISSING)
    for by in (str(world.b.id), "beta"):
        probes = zip(_probes(world, by, beta), _probes(world, str(MISSING), missing), strict=True)
        for (method, url), (_, missing_url) in probes:
            body = _body(method, url, world)
            response = api.request(method, url, json=body, headers=headers, follow_redirects=False)
            assert response.status_code == 404, (method, url)
            absent = api.request(method, missing_url, json=body, headers=headers)
            assert response.json() == absent.json(), (method, url)
    # and Beta takes no results from Alpha's people
    submit = api.post(
        "/api/test-runs/submit",
        params={"projectName": "Beta"},
        content=PLAYWRIGHT_JSON.read_bytes(),
        headers={**headers, "content-type": "application/json"},
    )
    assert submit.status_code == 404
    assert snapshot(engine, shared_settings.files_dir) == before


def test_the_same_probes_work_for_a_member_of_the_project(api: TestClient, world: World) -> None:
    """The probes above are real routes: Alpha's owner gets answers for Alpha's ids."""
    alpha = {
        "run": world.a.run_id,
        "test": world.a.test_id,
        "attachment": world.a.attachment_id,
        "trace": world.a.trace_id,
        "report": world.a.report_id,
    }
    headers = as_(api, OWNER)
    for method, url in _probes(world, str(world.a.id), alpha):
        if method == "GET":
            response = api.get(url, headers=headers, follow_redirects=False)
            assert response.status_code in (200, 307), url


@pytest.mark.parametrize("persona", [MEMBER, OWNER])
def test_another_users_session_id_answers_like_a_missing_one(
    persona: str, api: TestClient, world: World, engine: Engine, shared_settings: Settings
) -> None:
    """Self-service: the administrator's live session, named by its id, is nobody else's to see
    or end (the API and the page's confirmation step and form)."""
    admin = as_(api, ADMIN)
    sessions = api.get("/api/auth/sessions", headers=admin).json()
    theirs = next(s["id"] for s in sessions if s["current"])
    headers = as_(api, persona)
    before = snapshot(engine, shared_settings.files_dir)
    for method, url in [
        ("DELETE", "/api/auth/sessions/{}"),
        ("GET", "/account/sessions/{}/end"),
        ("POST", "/account/sessions/{}/end"),
    ]:
        response = api.request(method, url.format(theirs), headers=headers)
        absent = api.request(method, url.format("nosuchsession"), headers=headers)
        assert response.status_code == absent.status_code == 404, (method, url)
        assert response.json() == absent.json()
    assert snapshot(engine, shared_settings.files_dir) == before
    assert api.get("/api/auth/me", headers=admin).status_code == 200
