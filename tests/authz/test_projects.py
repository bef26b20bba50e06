"""Which projects a caller sees, and who owns the projects users create."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Project

from .support import (
    ADMIN,
    MEMBER,
    OUTSIDER,
    OWNER,
    REPORTER,
    VIEWER,
    World,
    as_,
    events,
    fresh,
    role_in,
)

DATA = Path(__file__).parents[1] / "data"
PLAYWRIGHT_JSON = DATA / "playwright" / "report.json"
HTML = {"Accept": "text/html"}


def _names(api: TestClient, headers: dict[str, str], url: str = "/api/projects") -> list[str]:
    response = api.get(url, headers=headers)
    assert response.status_code == 200
    return [p["name"] for p in response.json()["items"]]


def _submit(api: TestClient, headers: dict[str, str], project: str) -> int:
    response = api.post(
        "/api/test-runs/submit",
        params={"projectName": project},
        content=PLAYWRIGHT_JSON.read_bytes(),
        headers={**headers, "content-type": "application/json"},
    )
    return int(response.status_code)


def _project_id(db: Session, name: str) -> int | None:
    return fresh(db).scalar(select(Project.id).where(Project.name == name))


def test_users_list_only_their_projects_and_admins_list_all(api: TestClient, world: World) -> None:
    assert _names(api, as_(api, VIEWER)) == ["Alpha"]
    assert _names(api, as_(api, OUTSIDER)) == []
    assert _names(api, as_(api, ADMIN)) == ["Alpha", "Beta"]
    assert _names(api, as_(api, VIEWER), "/api/projects?q=a") == ["Alpha"]
    runs = api.get("/api/test-runs", headers=as_(api, MEMBER)).json()["items"]
    assert [r["id"] for r in runs] == [world.a.run_id]
    assert api.get("/api/test-runs", headers=as_(api, OUTSIDER)).json()["items"] == []
    assert len(api.get("/api/test-runs", headers=as_(api, ADMIN)).json()["items"]) == 2
    assert api.get("/api/projects", headers=as_(api, REPORTER)).status_code == 403


def test_a_user_who_creates_a_project_owns_it(api: TestClient, world: World, db: Session) -> None:
    created = api.post("/api/projects", json={"name": "Gamma"}, headers=as_(api, OUTSIDER))
    assert created.status_code == 201
    project_id = created.json()["id"]
    assert role_in(db, project_id, world.users[OUTSIDER]) == "owner"
    assert _names(api, as_(api, OUTSIDER)) == ["Gamma"]
    (event,) = events(db, "member.added")
    assert event.details == {
        "project_id": project_id,
        "project": "Gamma",
        "role": "owner",
        "via": "project_created",
    }
    # an administrator's project needs no membership
    by_admin = api.post("/api/projects", json={"name": "Delta"}, headers=as_(api, ADMIN))
    assert role_in(db, by_admin.json()["id"], world.users[ADMIN]) is None
    # the web form makes the creator owner too
    page = api.get("/projects", headers={**as_(api, VIEWER), **HTML})
    assert 'method="post" action="/projects"' in page.text
    form = api.post(
        "/projects", data={"name": "Epsilon"}, headers=as_(api, VIEWER), follow_redirects=False
    )
    assert form.status_code == 303
    epsilon = _project_id(db, "Epsilon")
    assert epsilon is not None and role_in(db, epsilon, world.users[VIEWER]) == "owner"


def test_users_cannot_create_projects_when_the_setting_forbids_it(
    authz_client: Callable[..., TestClient], world: World, db: Session
) -> None:
    api = authz_client(users_can_create_projects=False)
    refused = api.post("/api/projects", json={"name": "Gamma"}, headers=as_(api, OWNER))
    assert refused.status_code == 403
    assert _project_id(db, "Gamma") is None
    # nor by submitting to a new name: that answers like a project one cannot see
    assert _submit(api, as_(api, MEMBER), "Zeta") == 404
    assert _project_id(db, "Zeta") is None
    # their existing projects still take results, and administrators and reporters still create
    assert _submit(api, as_(api, MEMBER), "Alpha") == 201
    assert (
        api.post("/api/projects", json={"name": "Gamma"}, headers=as_(api, ADMIN)).status_code
        == 201
    )
    assert _submit(api, as_(api, REPORTER), "Eta") == 201
    page = api.get("/projects", headers={**as_(api, OWNER), **HTML})
    assert page.status_code == 200 and 'method="post" action="/projects"' not in page.text


def test_auto_created_projects_are_owned_by_the_user_who_submitted_not_by_reporters(
    api: TestClient, world: World, db: Session
) -> None:
    assert _submit(api, as_(api, OUTSIDER), "Zeta") == 201
    zeta = _project_id(db, "Zeta")
    assert zeta is not None and role_in(db, zeta, world.users[OUTSIDER]) == "owner"
    assert _submit(api, as_(api, REPORTER), "Eta") == 201
    eta = _project_id(db, "Eta")
    assert eta is not None and role_in(db, eta, world.users[REPORTER]) is None
    # a project that exists but is hidden is not created again nor written to
    assert _submit(api, as_(api, OUTSIDER), "Beta") == 404
    assert _submit(api, as_(api, VIEWER), "Alpha") == 403


def test_hidden_projects_are_404_pages_in_the_dashboard(api: TestClient, world: World) -> None:
    member = {**as_(api, MEMBER), **HTML}
    for url in (
        "/projects/beta",
        f"/projects/{world.b.id}",
        "/projects/beta/tests",
        "/projects/beta/flaky",
        f"/runs/{world.b.run_id}",
        f"/tests/{world.b.test_id}",
    ):
        response = api.get(url, headers=member)
        assert response.status_code == 404, url
        assert response.headers["content-type"].startswith("text/html")
        assert "Beta" not in response.text, url
    assert api.get("/projects/alpha", headers=member).status_code == 200
    overview = api.get("/", headers=member)
    assert "Alpha" in overview.text and "Beta" not in overview.text
    listing = api.get("/projects", headers=member)
    assert "Alpha" in listing.text and "Beta" not in listing.text
