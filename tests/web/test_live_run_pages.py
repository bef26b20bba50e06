"""The page of a run in parts: running with its progress and shards, incomplete, done; and in
a real browser, a running run's page following it without a reload."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.fixtures.servers import LiveServer
from tests.ingest.live_support import FAIL, PASS, junit, upload

from .conftest import BrowserPage, get_page


def _open(client: TestClient | httpx.Client, **body: Any) -> dict[str, Any]:
    response = client.post("/api/test-runs/live", json={"projectName": "web", **body})
    assert response.status_code == 201, response.text
    opened: dict[str, Any] = response.json()
    return opened


def _batch(
    client: TestClient | httpx.Client, opened: dict[str, Any], tests: dict[str, str]
) -> None:
    path = f"/api/test-runs/{opened['testRunId']}/parts/{opened['partId']}/results"
    response = client.post(path, files={"file": ("batch.xml", junit(tests), "application/xml")})
    assert response.status_code == 201, response.text


def test_a_running_live_run_shows_its_progress_and_follows_itself(client: TestClient) -> None:
    opened = _open(client, expectedTests=4)
    _batch(client, opened, {"a": PASS, "b": FAIL})
    response, page = get_page(client, f"/runs/{opened['testRunId']}")
    assert 'data-live-poll="3"' in response.text
    assert "Running · 2 tests received of 4" in " ".join(page.text.split())
    assert '<progress class="live-progress" max="4" value="2">' in response.text
    assert "badge o-running" in response.text

    client.post(f"/api/test-runs/{opened['testRunId']}/parts/{opened['partId']}/close")
    done, _ = get_page(client, f"/runs/{opened['testRunId']}")
    assert "data-live-poll" not in done.text
    assert "badge o-failed" in done.text


def test_a_sharded_run_names_its_missing_shards(client: TestClient) -> None:
    answer = upload(client, {"a": PASS}, project="web", runKey="b-9", shard="2/3")
    _, page = get_page(client, f"/runs/{answer.json()['testRunId']}")
    text = " ".join(page.text.split())
    assert "Shards arrived: 2 of 3 · missing: 1, 3" in text
    assert "run key b-9" in text


def test_a_run_of_one_upload_shows_no_parts(client: TestClient) -> None:
    answer = upload(client, {"a": PASS}, project="web")
    response, _ = get_page(client, f"/runs/{answer.json()['testRunId']}")
    assert 'id="run-parts"' not in response.text
    assert "data-live-poll" not in response.text


@pytest.mark.browser
def test_the_page_of_a_running_run_updates_without_a_reload(
    make_live_server: Callable[..., LiveServer],
    make_page: Callable[..., BrowserPage],
    engine: Engine,
) -> None:
    del engine  # the shared database is emptied after the test
    server = make_live_server()
    with httpx.Client(base_url=server.url) as api:
        opened = _open(api, expectedTests=3)
        _batch(api, opened, {"first": PASS})
        view = make_page()
        page = view.page
        page.goto(f"{server.url}/runs/{opened['testRunId']}")
        page.evaluate("window.__sameDocument = true")
        assert "1 test received of 3" in page.locator("#run-parts").inner_text()

        _batch(api, opened, {"second": PASS, "third": FAIL})
        page.locator("#run-parts", has_text="3 tests received of 3").wait_for(timeout=20_000)
        assert page.locator("li.result").count() == 3

        api.post(f"/api/test-runs/{opened['testRunId']}/parts/{opened['partId']}/close")
        page.locator("#run-title .badge.o-failed").wait_for(timeout=20_000)
        assert page.evaluate("window.__sameDocument") is True  # no reload happened
        assert re.search(r"failed", page.locator("#run-title").inner_text(), re.I)
    assert view.errors == []
