from __future__ import annotations

import os
import time

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.ingest.records import AttachmentRecord
from playdeck.kit.pagination import encode_cursor
from playdeck.models import Attachment, Project, ReportFile, Run
from playdeck.settings import Settings
from playdeck.storage.filesystem import FilesystemBlobStore
from tests.fixtures.runs import case, html_report, run_factory


def test_create_project_returns_slug_and_stores_it(client: TestClient, db: Session) -> None:
    response = client.post("/api/projects", json={"name": "Web Shop", "description": "e2e"})
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "web-shop"
    assert db.scalars(select(Project.name)).all() == ["Web Shop"]


def test_duplicate_project_name_is_a_conflict(client: TestClient) -> None:
    assert client.post("/api/projects", json={"name": "Shop"}).status_code == 201
    response = client.post("/api/projects", json={"name": "Shop"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "project_exists"


def test_same_slug_from_different_names_gets_a_suffix(client: TestClient) -> None:
    assert client.post("/api/projects", json={"name": "Shop!"}).json()["slug"] == "shop"
    assert client.post("/api/projects", json={"name": "Shop?"}).json()["slug"] == "shop-2"


def test_numeric_name_never_makes_an_ambiguous_slug(client: TestClient) -> None:
    created = client.post("/api/projects", json={"name": "2024"}).json()
    assert created["slug"] == "p-2024"
    assert client.get(f"/api/projects/{created['slug']}").json()["id"] == created["id"]
    assert client.get(f"/api/projects/{created['id']}").json()["slug"] == "p-2024"


def test_invalid_project_payloads_are_rejected_with_fields(client: TestClient, db: Session) -> None:
    for payload in (
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 201},
        {"name": "a\x00b"},
        {"name": "ok", "unknown": 1},
    ):
        response = client.post("/api/projects", json=payload)
        assert response.status_code == 422, payload
        body = response.json()
        assert body["code"] == "invalid_input"
        assert body["errors"], payload
    assert db.scalars(select(Project)).all() == []


def test_malformed_json_body_is_a_problem_not_a_crash(client: TestClient) -> None:
    response = client.post(
        "/api/projects", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert set(response.json()) >= {"type", "title", "status", "detail", "code"}


def test_list_projects_paginates_by_name_with_a_cursor(client: TestClient) -> None:
    for name in ["delta", "alpha", "charlie", "bravo", "echo"]:
        client.post("/api/projects", json={"name": name})
    first = client.get("/api/projects", params={"limit": 2}).json()
    assert [p["name"] for p in first["items"]] == ["alpha", "bravo"]
    second = client.get("/api/projects", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [p["name"] for p in second["items"]] == ["charlie", "delta"]
    third = client.get("/api/projects", params={"limit": 2, "cursor": second["next_cursor"]}).json()
    assert [p["name"] for p in third["items"]] == ["echo"]
    assert third["next_cursor"] is None


def test_list_projects_search_treats_wildcards_literally(client: TestClient) -> None:
    for name in ["api_tests", "apiXtests", "web"]:
        client.post("/api/projects", json={"name": name})
    found = client.get("/api/projects", params={"q": "api_"}).json()["items"]
    assert [p["name"] for p in found] == ["api_tests"]


def test_bad_cursor_is_rejected(client: TestClient) -> None:
    response = client.get("/api/projects", params={"cursor": "%%%"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


def test_update_project_renames_and_clears_description(client: TestClient) -> None:
    project = client.post("/api/projects", json={"name": "old", "description": "d"}).json()
    response = client.patch(
        f"/api/projects/{project['id']}", json={"name": "new", "description": None}
    )
    assert response.status_code == 200
    assert response.json()["name"] == "new"
    assert response.json()["description"] is None


def test_rename_to_existing_name_is_a_conflict(client: TestClient) -> None:
    client.post("/api/projects", json={"name": "a"})
    b = client.post("/api/projects", json={"name": "b"}).json()
    assert client.patch(f"/api/projects/{b['id']}", json={"name": "a"}).status_code == 409


def test_unknown_project_is_404_problem(client: TestClient) -> None:
    for ref in ("999999", "no-such-project"):
        response = client.get(f"/api/projects/{ref}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_delete_project_removes_it(client: TestClient, db: Session) -> None:
    project = client.post("/api/projects", json={"name": "gone"}).json()
    assert client.delete(f"/api/projects/{project['slug']}").status_code == 204
    assert db.scalars(select(Project)).all() == []
    assert client.get(f"/api/projects/{project['id']}").status_code == 404


def test_deleting_a_project_removes_its_runs_files_that_no_other_project_uses(
    client: TestClient, db: Session, engine: Engine, settings: Settings
) -> None:
    store = FilesystemBlobStore(settings.files_dir)
    make_run = run_factory(engine, store)
    shared = AttachmentRecord(name="shared.txt", content_type="text/plain", body=b"same bytes")
    mine = AttachmentRecord(name="mine.png", content_type="image/png", body=b"\x89PNG only here")
    doomed = make_run(
        [case("a", "failed", attachments=[shared, mine])],
        project="doomed",
        reports=[html_report(("index.html", b"<p>doomed report</p>"))],
    )
    make_run([case("a", "failed", attachments=[shared])], project="keeper")
    shas = set(db.scalars(select(Attachment.sha256).where(Attachment.run_id == doomed)))
    report_sha = db.scalars(select(ReportFile.sha256)).one()
    shared_sha = db.scalars(select(Attachment.sha256).where(Attachment.run_id != doomed)).one()
    # Stored long ago: files claimed within the grace period wait for a sweep.
    then = time.time() - 2 * 3600
    for blob in store.iter_blobs():
        os.utime(store.root / blob.name[:2] / blob.name[2:4] / blob.name, (then, then))

    assert client.delete("/api/projects/doomed").status_code == 204

    db.rollback()  # end the read snapshot taken above
    assert db.get(Run, doomed) is None
    assert store.exists(shared_sha)
    assert not any(store.exists(sha) for sha in (shas - {shared_sha}) | {report_sha})


def test_tampered_cursor_of_the_right_shape_is_rejected(client: TestClient) -> None:
    client.post("/api/projects", json={"name": "a"})
    tampered = encode_cursor(["a", "not-an-id"])
    response = client.get("/api/projects", params={"cursor": tampered})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"
