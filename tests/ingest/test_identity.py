"""One test, one identity, whichever client sent it: the real client suite
(tests/clients/playwright-project, two projects) as Playwright's JSON report, its JUnit report,
its blob shards and the PhenX reporter's body (tests/data/client-suite), sent to one project.

The identity is ``sha256(file relative to the Playwright testDir, project, describe path,
title)``. The PhenX format carries the file (relative to the working directory: the testDir in
its metadata is cut off), the bare title and no project; its tests land on the others' identity
when the config has one project and the test sits in no describe block (docs/decisions.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Result, Test

SUITE = Path(__file__).parents[1] / "data" / "client-suite"
PROJECT = "shop"


def _tests_of(db: Session, response: Any) -> dict[tuple[str, str, str], int]:
    assert response.status_code == 201, response.text
    db.rollback()  # a fresh snapshot: the run was stored after this session's last read
    rows = db.execute(
        select(Test.file, Test.browser_project, Test.title, Test.id)
        .join(Result, Result.test_id == Test.id)
        .where(Result.run_id == response.json()["testRunId"])
    ).all()
    return {(file, project, title): test_id for file, project, title, test_id in rows}


def test_json_junit_and_blob_of_one_suite_land_on_the_same_tests(
    client: TestClient, db: Session
) -> None:
    json_report = client.post(
        "/api/test-runs/submit",
        params={"projectName": PROJECT},
        content=(SUITE / "report.json").read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    junit = client.post(
        "/api/test-runs/upload",
        data={"projectName": PROJECT},
        files={"file": ("junit.xml", (SUITE / "junit.xml").read_bytes(), "application/xml")},
    )
    blob = client.post(
        "/api/test-runs/upload",
        data={"projectName": PROJECT},
        files=[
            ("file", (p.name, p.read_bytes(), "application/zip"))
            for p in sorted((SUITE / "blob").glob("*.zip"))
        ],
    )

    from_json = _tests_of(db, json_report)
    assert len(from_json) == 10
    assert {project for _, project, _ in from_json} == {"desktop", "mobile"}
    assert _tests_of(db, junit) == from_json
    assert _tests_of(db, blob) == from_json
    assert len(db.scalars(select(Test.id)).all()) == 10  # no identity of its own anywhere


def test_phenx_body_of_a_one_project_config_lands_on_the_same_undescribed_test(
    client: TestClient, db: Session
) -> None:
    from_json = _tests_of(
        db,
        client.post(
            "/api/test-runs/submit",
            params={"projectName": PROJECT},
            content=(SUITE / "report.json").read_bytes(),
            headers={"Content-Type": "application/json"},
        ),
    )
    body: dict[str, Any] = orjson.loads((SUITE / "phenx-desktop.json").read_bytes())
    # The run of the desktop project alone; the reporter lists the config's projects, so a
    # config of that one project would list only it.
    body["metadata"]["htmlReport"]["projects"] = [
        p for p in body["metadata"]["htmlReport"]["projects"] if p["name"] == "desktop"
    ]
    body["projectName"] = PROJECT
    phenx = _tests_of(db, client.post("/api/test-runs/submit", json=body))

    assert (
        phenx[("plain.spec.js", "desktop", "adds numbers")]
        == from_json[("plain.spec.js", "desktop", "adds numbers")]
    )
    # Tests in describe blocks: the format sends the bare title, so they stay apart.
    assert ("checkout.spec.js", "desktop", "recovers on retry") in phenx
    assert len(set(phenx.values()) & set(from_json.values())) == 1
