"""What a key may do: its owner's rights as they are now, narrowed by the key's project and
scopes; and reporter accounts, by key or by session, may only submit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from playdeck.models import ApiKey, Project, ProjectMember, Run, User

from .support import DATA, PASSWORD, access_token, bearer, phenx_run, x_api_key

PLAYWRIGHT_JSON = DATA / "playwright" / "report.json"


def _submit(client: TestClient, headers: dict[str, str], project: str) -> int:
    response = client.post("/api/test-runs/submit", json=phenx_run(project), headers=headers)
    return int(response.status_code)


def _upload(client: TestClient, headers: dict[str, str], project: str) -> int:
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": project},
        files=[("file", ("report.json", PLAYWRIGHT_JSON.read_bytes(), "application/json"))],
        headers=headers,
    )
    return int(response.status_code)


def _run_of(client: TestClient, headers: dict[str, str], project: str) -> int:
    response = client.post("/api/test-runs/submit", json=phenx_run(project), headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["testRunId"])


@pytest.fixture
def root(auth_client: TestClient, make_user: Callable[..., User]) -> dict[str, str]:
    """An administrator's bearer headers; shop and blog each hold one run."""
    make_user("root", role="admin")
    return bearer(access_token(auth_client, "root"))


def test_a_project_restricted_key_sees_only_its_project(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    root: dict[str, str],
    db: Session,
) -> None:
    shop_run, blog_run = _run_of(auth_client, root, "shop"), _run_of(auth_client, root, "blog")
    owner = db.scalars(select(User).where(User.username == "root")).one()
    key = bearer(make_key(owner, project="shop"))

    projects = auth_client.get("/api/projects", headers=key).json()["items"]
    assert [p["slug"] for p in projects] == ["shop"]
    runs = auth_client.get("/api/test-runs", headers=key).json()["items"]
    assert {r["id"] for r in runs} == {shop_run}
    assert auth_client.get("/api/projects/shop", headers=key).status_code == 200
    assert auth_client.get(f"/api/test-runs/{shop_run}", headers=key).status_code == 200
    assert _submit(auth_client, key, "shop") == 201

    # Another project is hidden, even to an administrator's key: 404, as if it did not exist.
    for path in ("/api/projects/blog", f"/api/test-runs/{blog_run}", "/api/projects/blog/tests"):
        assert auth_client.get(path, headers=key).status_code == 404, path
    assert auth_client.get("/api/test-runs?project=blog", headers=key).status_code == 404
    assert auth_client.delete("/api/projects/blog", headers=key).status_code == 404
    assert _submit(auth_client, key, "blog") == 404
    assert _upload(auth_client, key, "blog") == 404
    # Naming a new project does not create one beside the key's.
    assert _submit(auth_client, key, "brand-new") == 404
    db.rollback()
    assert sorted(db.scalars(select(Project.slug))) == ["blog", "shop"]
    assert db.scalars(select(Run).where(Run.project_id == projects[0]["id"])).all() != []


def test_a_key_without_read_scope_is_refused_on_reads(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    root: dict[str, str],
    db: Session,
) -> None:
    run_id = _run_of(auth_client, root, "shop")
    owner = db.scalars(select(User).where(User.username == "root")).one()
    key = x_api_key(make_key(owner, scopes=["runs:write"]))

    assert _submit(auth_client, key, "shop") == 201
    assert _upload(auth_client, key, "shop") == 201
    for path in (
        "/api/projects",
        "/api/projects/shop",
        "/api/test-runs",
        f"/api/test-runs/{run_id}",
        "/api/admin/audit",
    ):
        assert auth_client.get(path, headers=key).status_code == 403, path
    assert auth_client.delete(f"/api/test-runs/{run_id}", headers=key).status_code == 403
    assert auth_client.get("/api/auth/me", headers=key).status_code == 200


def test_a_key_without_runs_write_scope_is_refused_on_submit(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    root: dict[str, str],
    db: Session,
) -> None:
    run_id = _run_of(auth_client, root, "shop")
    owner = db.scalars(select(User).where(User.username == "root")).one()
    key = bearer(make_key(owner, scopes=["read"]))

    assert auth_client.get("/api/projects/shop", headers=key).status_code == 200
    assert auth_client.get(f"/api/test-runs/{run_id}", headers=key).status_code == 200
    assert _submit(auth_client, key, "shop") == 403
    assert _upload(auth_client, key, "shop") == 403
    assert auth_client.delete(f"/api/test-runs/{run_id}", headers=key).status_code == 403
    assert auth_client.post("/api/projects", json={"name": "new"}, headers=key).status_code == 403
    assert auth_client.get("/api/admin/users", headers=key).status_code == 403


def test_a_key_has_its_owners_project_memberships_as_they_are_now(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    root: dict[str, str],
    db: Session,
) -> None:
    _run_of(auth_client, root, "shop")
    _run_of(auth_client, root, "blog")
    alice = make_user("alice")
    shop = db.scalars(select(Project).where(Project.slug == "shop")).one()
    db.add(ProjectMember(project_id=shop.id, user_id=alice.id, role="member"))
    db.commit()
    key = bearer(make_key(alice))

    assert auth_client.get("/api/projects/shop", headers=key).status_code == 200
    assert _submit(auth_client, key, "shop") == 201
    assert auth_client.get("/api/projects/blog", headers=key).status_code == 404
    assert _submit(auth_client, key, "blog") == 404
    assert auth_client.get("/api/admin/audit", headers=key).status_code == 403

    db.execute(delete(ProjectMember).where(ProjectMember.user_id == alice.id))
    db.commit()
    assert auth_client.get("/api/projects/shop", headers=key).status_code == 404
    assert _submit(auth_client, key, "shop") == 404


REPORTER_REFUSED = [
    ("GET", "/api/projects"),
    ("GET", "/api/projects/shop"),
    ("GET", "/api/test-runs"),
    ("GET", "/api/test-runs/{run}"),
    ("GET", "/api/projects/shop/tests"),
    ("GET", "/api/admin/audit"),
    ("GET", "/api/admin/users"),
    ("POST", "/api/admin/users/1/unlock"),
    ("POST", "/api/projects"),
    ("DELETE", "/api/test-runs/{run}"),
]


@pytest.mark.parametrize("transport", ["bearer-key", "x-api-key", "session-cookie"])
def test_a_reporter_may_submit_and_upload_and_nothing_else(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    root: dict[str, str],
    transport: str,
) -> None:
    run_id = _run_of(auth_client, root, "shop")
    ci = make_user("ci", role="reporter")
    if transport == "session-cookie":
        # As the PhenX reporter does it: log in, replay the cookies, no CSRF token, no Origin.
        login = auth_client.post("/api/auth/login", json={"username": "ci", "password": PASSWORD})
        cookie = "; ".join(f"{name}={value}" for name, value in login.cookies.items())
        auth_client.cookies.clear()
        headers = {"Cookie": cookie}
    else:
        key = make_key(ci)
        headers = bearer(key) if transport == "bearer-key" else x_api_key(key)

    assert _submit(auth_client, headers, "shop") == 201
    assert _upload(auth_client, headers, "shop") == 201
    assert _submit(auth_client, headers, "a-new-project") == 201
    for method, path in REPORTER_REFUSED:
        response = auth_client.request(method, path.format(run=run_id), headers=headers)
        assert response.status_code == 403, f"{transport}: {method} {path} -> {response.text}"


def test_deleting_its_project_deletes_a_restricted_key(
    auth_client: TestClient,
    make_user: Callable[..., User],
    make_key: Callable[..., str],
    root: dict[str, str],
    db: Session,
) -> None:
    """The restriction must never just disappear and leave an unrestricted key behind."""
    _run_of(auth_client, root, "shop")
    owner = db.scalars(select(User).where(User.username == "root")).one()
    key = bearer(make_key(owner, project="shop"))
    unrestricted = bearer(make_key(owner, name="everything"))

    assert auth_client.delete("/api/projects/shop", headers=root).status_code == 204

    assert auth_client.get("/api/projects", headers=key).status_code == 401
    assert auth_client.get("/api/projects", headers=unrestricted).status_code == 200
    db.rollback()
    assert db.scalars(select(ApiKey.name)).all() == ["everything"]
