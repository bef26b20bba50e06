"""The ``quarantined`` field (with reason and expiry) of a run's tests and a project's tests,
and the ``quarantined`` filter of the project's tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Project, Test
from tests.fixtures.runs import MakeRun, case


def _test_id(db: Session, title: str, project: str = "web") -> int:
    return db.scalars(
        select(Test.id)
        .join(Project, Project.id == Test.project_id)
        .where(Test.title == title, Project.name == project)
    ).one()


def _by_title(items: list[dict[str, object]], key: str) -> dict[str, dict[str, object]]:
    return {str(item[key]): item for item in items}


def test_a_runs_tests_and_a_projects_tests_say_which_are_quarantined(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    run_id = make_run([case("checkout", "failed"), case("login", "failed")], project="web")
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    put = client.put(
        f"/api/tests/{_test_id(db, 'checkout')}/quarantine",
        json={"reason": "sandbox", "expires_at": expires.isoformat()},
    )
    assert put.status_code == 200, put.text
    note = {"reason": "sandbox", "expires_at": expires.isoformat().replace("+00:00", "Z")}

    results = client.get(f"/api/test-runs/{run_id}/tests").json()["items"]
    by_title = {item["test"]["title"]: item for item in results}
    assert by_title["checkout"]["quarantined"] is True
    assert by_title["checkout"]["quarantine"] == note
    assert by_title["login"]["quarantined"] is False and by_title["login"]["quarantine"] is None

    tests = _by_title(client.get("/api/projects/web/tests").json()["items"], "title")
    assert tests["checkout"]["quarantined"] is True and tests["checkout"]["quarantine"] == note
    assert tests["login"]["quarantined"] is False

    only = client.get("/api/projects/web/tests", params={"quarantined": "true"}).json()
    assert [item["title"] for item in only["items"]] == ["checkout"]


def test_a_lapsed_quarantine_is_not_reported(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    run_id = make_run([case("checkout", "failed")], project="web")
    expires = datetime.now(UTC) + timedelta(days=1)
    client.put(
        f"/api/tests/{_test_id(db, 'checkout')}/quarantine",
        json={"reason": "sandbox", "expires_at": expires.isoformat()},
    )
    with time_machine.travel(expires + timedelta(seconds=1)):
        (item,) = client.get(f"/api/test-runs/{run_id}/tests").json()["items"]
        assert item["quarantined"] is False and item["quarantine"] is None
        (test,) = client.get("/api/projects/web/tests").json()["items"]
        assert test["quarantined"] is False
        only = client.get("/api/projects/web/tests", params={"quarantined": "true"}).json()
        assert only["items"] == []


def test_another_projects_quarantine_does_not_leak(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    run_id = make_run([case("checkout", "failed")], project="web")
    make_run([case("checkout", "failed")], project="other")
    client.put(f"/api/tests/{_test_id(db, 'checkout', 'other')}/quarantine", json={"reason": "x"})
    (item,) = client.get(f"/api/test-runs/{run_id}/tests").json()["items"]
    assert item["quarantined"] is False
    (test,) = client.get("/api/projects/web/tests").json()["items"]
    assert test["quarantined"] is False
    only = client.get("/api/projects/web/tests", params={"quarantined": "true"}).json()
    assert only["items"] == []
    other = client.get("/api/projects/other/tests", params={"quarantined": "true"}).json()
    assert [t["title"] for t in other["items"]] == ["checkout"]


def test_the_openapi_description_documents_the_fields_and_the_filter(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for schema in ("RunTest", "ProjectTest"):
        properties = spec["components"]["schemas"][schema]["properties"]
        assert "do not fail CI" in properties["quarantined"]["description"]
        assert "reason and expiry" in properties["quarantine"]["description"]
    parameters = spec["paths"]["/api/projects/{ref}/tests"]["get"]["parameters"]
    assert "quarantined" in {p["name"] for p in parameters}
