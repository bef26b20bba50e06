"""The read API's list pages, byte for byte: the JSON recorded in ``tests/runs/golden/`` was
produced by the ORM-and-pydantic implementation these endpoints had before they were made
faster (rows straight from the database into the response). Any difference in a field, its
order, a number's or a timestamp's format is a failure.

The data: the real Playwright JSON report and the PhenX reporter's report from ``tests/data``
(each stored twice), plus runs built to cover what those lack (attachments, no-time attempts,
tags, annotations, unicode). The clock is frozen, so the flake window is the same every day.

The ``project-*-tests.json`` pages were recorded again when flakiness became per branch and
"failed and passed on the same commit" (the ``flakiness`` objects changed, nothing else), and
the ``run-*-tests`` and ``project-*-tests`` pages when quarantine marks were added (the fields
``quarantined`` and ``quarantine`` appended to each item, nothing else changed: checked by
comparing the pages with those two fields removed).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from fastapi.testclient import TestClient
from pydantic import BaseModel

from playdeck.ingest.records import AttachmentRecord
from playdeck.runs.history.schemas import HistoryPage, ProjectTestPage
from playdeck.runs.schemas import RunPage, RunTestPage

from .conftest import MakeRun, case

DATA = Path(__file__).parents[1] / "data"
GOLDEN = Path(__file__).parent / "golden"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _store(client: TestClient, make_run: MakeRun) -> None:
    playwright = (DATA / "playwright" / "report.json").read_bytes()
    phenx = (DATA / "phenx" / "submit.json").read_bytes()
    for _ in range(2):
        for body, query in ((playwright, "?projectName=web"), (phenx, "")):
            response = client.post(
                f"/api/test-runs/submit{query}",
                content=body,
                headers={"content-type": "application/json"},
            )
            assert response.status_code == 201, response.text
    screenshot = AttachmentRecord(name="screenshot", content_type="image/png", body=b"\x89PNG..")
    for hour, outcome in ((30, "failed"), (20, "flaky"), (10, "passed")):
        make_run(
            [
                case("pays in €", outcome, describe=["Checkout ✓"], attachments=[screenshot]),
                case("ships", "passed", tags=["@smoke"], annotations=[{"type": "issue"}]),
                case("refunds", "skipped", file="tests/refund.spec.ts"),
                case("times out", "timedout", error="\x1b[31mTimeout\x1b[39m 5000ms"),
            ],
            project="shop",
            started_at=datetime(2026, 11, 29, tzinfo=UTC).replace(hour=hour % 24),
            branch="main" if hour != 20 else None,
            tags=["nightly"],
        )


def _pages(client: TestClient) -> list[tuple[str, str]]:
    """(golden file name, path) of each page compared."""
    runs = client.get("/api/test-runs?limit=500").json()["items"]
    pages = [
        ("runs.json", "/api/test-runs?limit=500"),
        ("runs-shop.json", "/api/test-runs?project=shop&limit=2"),
        ("runs-failed.json", "/api/test-runs?status=failed&limit=500"),
    ]
    for run in runs:
        pages.append((f"run-{run['id']}-tests.json", f"/api/test-runs/{run['id']}/tests?limit=500"))
    first = runs[-1]["id"]
    pages.append(("run-tests-failed.json", f"/api/test-runs/{first}/tests?outcome=failed,flaky"))
    pages.append(("run-tests-page.json", f"/api/test-runs/{first}/tests?limit=3"))
    tests = client.get(f"/api/test-runs/{first}/tests?limit=500").json()["items"]
    for item in tests[:5]:
        test_id = item["test"]["id"]
        pages.append((f"test-{test_id}-history.json", f"/api/tests/{test_id}/history?limit=500"))
    for slug in ("web", "playdeck-fixtures", "shop"):
        pages.append((f"project-{slug}-tests.json", f"/api/projects/{slug}/tests?limit=500"))
    pages.append(("project-web-tests-page.json", "/api/projects/web/tests?limit=4"))
    return pages


@pytest.fixture
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


@pytest.mark.usefixtures("frozen")
def test_list_pages_are_byte_for_byte_the_recorded_json(
    client: TestClient, make_run: MakeRun
) -> None:
    _store(client, make_run)
    pages = _pages(client)
    assert len(pages) > 10
    for name, path in pages:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"] == "application/json", path
        assert response.content == (GOLDEN / name).read_bytes(), path
    # A later page, through its cursor, is the same as well.
    cursor = client.get("/api/test-runs?project=shop&limit=2").json()["next_cursor"]
    second = client.get("/api/test-runs", params={"project": "shop", "cursor": cursor})
    assert second.content == (GOLDEN / "runs-shop-2.json").read_bytes()


def _model_of(path: str) -> type[BaseModel]:
    if path.startswith("/api/test-runs?"):
        return RunPage
    if path.startswith("/api/test-runs/"):
        return RunTestPage
    if path.startswith("/api/projects/"):
        return ProjectTestPage
    return HistoryPage


@pytest.mark.usefixtures("frozen")
def test_list_pages_are_the_json_their_response_models_write(
    client: TestClient, make_run: MakeRun
) -> None:
    """Pages built from rows write what their documented response model would (the fields, their
    order, every format): a field added to a model and not to the rows' values fails here."""
    _store(client, make_run)
    for _name, path in _pages(client):
        body = client.get(path).content
        model = _model_of(path)
        assert body == model.model_validate_json(body).model_dump_json().encode(), path
