"""What an ingest worker process logs, as operators read it: under ``playdeck serve``, in the
server's format and level, with the request id the client received as ``X-Request-ID``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from playdeck.app import create_app
from playdeck.observability.request_id import current_request_id, serving_request
from playdeck.settings import Settings
from tests.deploy.processes import clean_env, playdeck_serve

PLAYWRIGHT_JSON = Path(__file__).parents[1] / "data" / "playwright" / "report.json"
PLAYWRIGHT_ZIP = PLAYWRIGHT_JSON.with_name("report.zip")
REQUEST_ID = "ci-build-42.upload"
# What the worker logs when a write that stored files rolls back (storage.gc.discard).
DISCARDED = "stored files of an ingest that did not commit"


def _failed_upload(client: httpx.Client) -> httpx.Response:
    """An upload whose attachments the worker stores, then discards: its run row holds a branch
    no database can store, so the transaction rolls back."""
    with PLAYWRIGHT_ZIP.open("rb") as handle:
        return client.post(
            "/api/test-runs/upload",
            data={"projectName": "worker-logs", "branch": "a\x00b"},
            files={"file": ("report.zip", handle, "application/zip")},
            headers={"X-Request-ID": REQUEST_ID},
        )


def test_a_workers_json_lines_carry_the_request_id_its_client_received(tmp_path: Path) -> None:
    """``playdeck serve`` as operators run it: the server's lines and its worker's in one
    stream, each one JSON object with the same fields."""
    env = clean_env(
        PLAYDECK_DATA_DIR=str(tmp_path / "data"),
        PLAYDECK_DATABASE_URL=f"sqlite:///{tmp_path / 'playdeck.db'}",
        PLAYDECK_INGEST_IN_WORKER_PROCESS="true",
        PLAYDECK_LOG_FORMAT="json",
        PLAYDECK_TRUSTED_PROXIES="127.0.0.1",  # the test is the proxy whose id is kept
    )
    with (
        playdeck_serve(env=env, workdir=tmp_path) as server,
        httpx.Client(base_url=server.url, timeout=120) as client,
    ):
        response = _failed_upload(client)
    assert response.status_code == 422, response.text
    assert response.headers["X-Request-ID"] == REQUEST_ID
    lines = [json.loads(line) for line in server.log().splitlines()]  # the worker's too

    [discarded] = [entry for entry in lines if DISCARDED in entry["message"]]
    [access] = [entry for entry in lines if entry["logger"] == "playdeck.access"]
    assert (discarded["logger"], discarded["level"]) == ("playdeck.storage", "info")
    assert discarded["request_id"] == access["request_id"] == REQUEST_ID
    assert discarded.keys() == {"time", "level", "logger", "message", "request_id"}


def test_a_workers_text_lines_carry_the_request_id_its_client_received(
    database_url: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The default text format. The app starts its worker inside the test, so the worker's
    standard error is the captured one."""
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        data_dir=tmp_path / "data",
        ingest_in_worker_process=True,
        trusted_proxies=["127.0.0.1"],
    )
    app = create_app(settings)
    proxy = ("127.0.0.1", 50000)
    with TestClient(app, raise_server_exceptions=False, client=proxy) as client:
        response = _failed_upload(client)
    assert response.status_code == 422, response.text

    stamp = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO    "
    line = rf"{stamp}playdeck\.storage \[{re.escape(REQUEST_ID)}\] removed \d+ {DISCARDED}$"
    assert re.search(line, capfd.readouterr().err, re.MULTILINE)


def test_workers_start_at_the_trace_log_level(database_url: str, tmp_path: Path) -> None:
    """``trace`` is uvicorn's level; a worker, which has no uvicorn, must know it too."""
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        data_dir=tmp_path / "data",
        ingest_in_worker_process=True,
        log_level="trace",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.post(
            "/api/test-runs/submit?projectName=worker-trace", content=PLAYWRIGHT_JSON.read_bytes()
        )
    assert response.status_code == 201, response.text


def test_a_jobs_request_id_ends_with_the_job() -> None:
    """A worker runs one job after another in one thread: the next job, or a line logged
    between jobs, must not carry this one's id, even when the job failed."""

    before = current_request_id()

    def job() -> None:
        assert current_request_id() == REQUEST_ID
        raise RuntimeError("kaput")

    with pytest.raises(RuntimeError), serving_request(REQUEST_ID):
        job()
    assert current_request_id() == before != REQUEST_ID
