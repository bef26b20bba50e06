"""Ingest in worker processes (``PLAYDECK_INGEST_IN_WORKER_PROCESS``, the production default):
the same contracts as in process, kept across the process boundary. One app (one pool) serves
the module; each test uses its own project and compares stored files before and after."""

from __future__ import annotations

import os
import pickle
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session

from playdeck.app import create_app
from playdeck.errors import AppError
from playdeck.ingest import pool, worker
from playdeck.ingest.parsers.phenx import parse_phenx_submit
from playdeck.ingest.parsers.playwright_json import parse_playwright_json
from playdeck.kit.text import UnstorableText
from playdeck.models import Attachment, Project, Result, Run
from playdeck.settings import Settings

DATA = Path(__file__).parents[1] / "data"
PLAYWRIGHT_JSON = DATA / "playwright" / "report.json"
PLAYWRIGHT_ZIP = DATA / "playwright" / "report.zip"


@pytest.fixture(scope="module")
def pool_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("pool-data"),
        ingest_in_worker_process=True,
    )


@pytest.fixture(scope="module")
def pool_client(pool_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(pool_settings), raise_server_exceptions=False) as client:
        yield client


def _files(settings: Settings) -> set[Path]:
    return {p for p in settings.files_dir.rglob("*") if p.is_file() and "tmp" not in p.parts}


def _runs(db: Session, project: str) -> int:
    return (
        db.scalar(
            select(func.count()).select_from(Run).join(Project).where(Project.name == project)
        )
        or 0
    )


def _ingested(client: TestClient) -> float:
    text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "playdeck_ingested_tests_total":
                return float(sample.value)
    return 0.0


def test_submit_is_stored_by_a_worker_and_counted(
    pool_client: TestClient, pool_settings: Settings, db: Session
) -> None:
    body = PLAYWRIGHT_JSON.read_bytes()
    expected = parse_playwright_json(orjson.loads(body))
    before = _ingested(pool_client)

    response = pool_client.post("/api/test-runs/submit?projectName=pool-submit", content=body)

    assert response.status_code == 201, response.text
    run = db.get(Run, response.json()["testRunId"])
    assert run is not None
    assert run.total == len(expected.tests)
    stored = db.scalar(select(func.count()).select_from(Result).where(Result.run_id == run.id))
    assert stored == len(expected.tests)
    assert _ingested(pool_client) - before == len(expected.tests)
    assert not any((pool_settings.data_dir / "spool").iterdir())  # the body is removed


def test_phenx_body_is_read_from_the_mapped_spool_file(
    pool_client: TestClient, db: Session
) -> None:
    body = (DATA / "phenx" / "submit.json").read_bytes()

    response = pool_client.post("/api/test-runs/submit?projectName=pool-phenx", content=body)

    assert response.status_code == 201, response.text
    run = db.get(Run, response.json()["testRunId"])
    assert run is not None and run.source_format == "phenx"
    assert run.total == len(parse_phenx_submit(orjson.loads(body)).tests) > 0


def test_upload_with_attachments_is_stored_by_a_worker(
    pool_client: TestClient, db: Session
) -> None:
    with PLAYWRIGHT_ZIP.open("rb") as handle:
        response = pool_client.post(
            "/api/test-runs/upload",
            data={"projectName": "pool-upload", "branch": "main"},
            files={"file": ("report.zip", handle, "application/zip")},
        )

    assert response.status_code == 201, response.text
    run = db.get(Run, response.json()["testRunId"])
    assert run is not None and run.branch == "main"
    attachments = db.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.run_id == run.id)
    )
    assert attachments


def test_idempotency_key_replays_the_run_a_worker_stored(
    pool_client: TestClient, db: Session
) -> None:
    body = PLAYWRIGHT_JSON.read_bytes()
    headers = {"Idempotency-Key": "pool-retry-1"}
    url = "/api/test-runs/submit?projectName=pool-retry"

    first = pool_client.post(url, content=body, headers=headers)
    again = pool_client.post(url, content=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["testRunId"] == first.json()["testRunId"]
    assert _runs(db, "pool-retry") == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"", 400, "malformed_json"),  # an empty spool file cannot be mapped
        (b'{"suites": "nope", "config": {}}', 422, "invalid_report"),
        (b'{"suites": [{"specs": [{"tests": []}]}]}', 422, "invalid_report"),
    ],
)
def test_refusals_from_a_worker_are_problem_details(
    pool_client: TestClient, db: Session, body: bytes, status: int, code: str
) -> None:
    response = pool_client.post("/api/test-runs/submit?projectName=pool-refused", content=body)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert _runs(db, "pool-refused") == 0


def test_a_failed_write_in_a_worker_leaves_no_run_and_no_new_file(
    pool_client: TestClient, pool_settings: Settings, db: Session
) -> None:
    before = _files(pool_settings)
    with PLAYWRIGHT_ZIP.open("rb") as handle:
        # The zip's attachments are stored before the transaction; the run row then holds a
        # branch no database can store.
        response = pool_client.post(
            "/api/test-runs/upload",
            data={"projectName": "pool-failed", "branch": "a\x00b"},
            files={"file": ("report.zip", handle, "application/zip")},
        )

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "unstorable_text"
    assert _runs(db, "pool-failed") == 0
    assert _files(pool_settings) <= before


def _pool_workers() -> list[int]:
    """This process's children that are spawned pool workers."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"spawn_main" in command:
            pids.append(int(entry))
    return pids


def test_a_dead_worker_is_a_503_and_the_next_ingest_gets_a_new_one(
    pool_client: TestClient, db: Session
) -> None:
    body = PLAYWRIGHT_JSON.read_bytes()
    url = "/api/test-runs/submit?projectName=pool-lost"
    assert pool_client.post(url, content=body).status_code == 201  # the pool is running
    workers = _pool_workers()
    assert workers
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)  # the pool notices a dead worker from its own thread

    lost = pool_client.post(url, content=body)
    retried = pool_client.post(url, content=body)

    assert lost.status_code == 503, lost.text
    assert lost.json()["code"] == "ingest_worker_lost"
    assert "Retry-After" in lost.headers
    assert retried.status_code == 201, retried.text
    assert _runs(db, "pool-lost") == 2


@pytest.mark.parametrize(
    ("raised", "answered"),
    [
        (OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked")), 503),
        (OperationalError("INSERT", {}, OSError(28, "No space left on device")), 507),
        (DataError("INSERT", {"x": 1}, ValueError("out of range")), DataError),
        (UnstorableText("NUL"), UnstorableText),
    ],
)
def test_worker_errors_cross_to_the_server_as_it_answers_them(
    raised: Exception, answered: Any
) -> None:
    portable = worker._portable(raised)

    assert portable is not None
    crossed = pickle.loads(pickle.dumps(portable))
    if isinstance(answered, int):
        assert isinstance(crossed, AppError)
        assert crossed.status == answered
    else:
        assert isinstance(crossed, answered)


def test_a_bug_in_a_worker_is_not_mapped() -> None:
    assert worker._portable(KeyError("x")) is None


def test_the_app_has_no_worker_until_it_starts(pool_settings: Settings) -> None:
    app: FastAPI = create_app(pool_settings)
    assert app.state.ingest_pool._executor is None


def test_a_worker_that_grew_is_replaced_after_its_job(
    pool_client: TestClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = PLAYWRIGHT_JSON.read_bytes()
    url = "/api/test-runs/submit?projectName=pool-recycled"
    assert pool_client.post(url, content=body).status_code == 201
    before = set(_pool_workers())
    monkeypatch.setattr(pool, "RECYCLE_GROWTH_MIB", -1)  # every job "grew" its worker

    recycled = pool_client.post(url, content=body)
    deadline = time.monotonic() + 30
    while before & set(_pool_workers()) and time.monotonic() < deadline:
        time.sleep(0.1)

    assert recycled.status_code == 201, recycled.text
    assert not before & set(_pool_workers())  # the old worker exited
    assert pool_client.post(url, content=body).status_code == 201  # a new one took over
    assert _runs(db, "pool-recycled") == 3
