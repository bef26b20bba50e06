"""Ingests arriving at once, against a real server: sharded CI jobs submitting to one new
project, and one client retrying with the same ``Idempotency-Key``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playdeck.models import Project, Run
from tests.fixtures.servers import LiveServer

PHENX_JSON = Path(__file__).parents[1] / "data" / "phenx" / "submit.json"
SHARDS = 12


def all_at_once(send: Callable[[int], httpx.Response], count: int) -> list[httpx.Response]:
    barrier = threading.Barrier(count)
    answers: list[httpx.Response | None] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = send(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(a is not None for a in answers)
    return [a for a in answers if a is not None]


def test_concurrent_first_submits_to_a_new_project_all_succeed_with_one_project(
    live_server: LiveServer, db: Session
) -> None:
    body = PHENX_JSON.read_bytes()

    def send(_i: int) -> httpx.Response:
        return httpx.post(
            f"{live_server.url}/api/test-runs/submit?projectName=sharded-ci",
            content=body,
            headers={"Content-Type": "application/json"},
            timeout=60,
        )

    answers = all_at_once(send, SHARDS)
    assert [a.status_code for a in answers] == [201] * SHARDS, [a.text for a in answers]
    assert len({a.json()["projectId"] for a in answers}) == 1
    assert db.scalar(select(func.count()).select_from(Project)) == 1
    assert db.scalar(select(func.count()).select_from(Run)) == SHARDS


def _submit(url: str, body: bytes, key: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return httpx.post(
        f"{url}/api/test-runs/submit?projectName=retried", content=body, headers=headers, timeout=60
    )


def test_a_retry_with_the_same_key_answers_the_first_run(
    live_server: LiveServer, db: Session
) -> None:
    body = PHENX_JSON.read_bytes()
    first = _submit(live_server.url, body, "ci-build-17-shard-1")
    again = _submit(live_server.url, body, "ci-build-17-shard-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert db.scalar(select(func.count()).select_from(Run)) == 1

    changed = body.replace(b"{", b'{"branch": "other", ', 1)
    reused = _submit(live_server.url, changed, "ci-build-17-shard-1")
    assert reused.status_code == 409, reused.text
    assert reused.json()["code"] == "idempotency_key_reused"
    # Without a key every request is a new run, as the seed reporter expects.
    assert _submit(live_server.url, body, None).status_code == 201
    assert _submit(live_server.url, body, None).status_code == 201
    db.rollback()  # a fresh snapshot (SQLite keeps the first read's)
    assert db.scalar(select(func.count()).select_from(Run)) == 3
    assert _submit(live_server.url, body, "bad key with spaces").status_code == 400


def test_concurrent_retries_with_one_key_store_one_run(
    live_server: LiveServer, db: Session
) -> None:
    body = PHENX_JSON.read_bytes()
    answers = all_at_once(lambda _i: _submit(live_server.url, body, "one-key"), 8)
    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers]
    assert len({a.json()["testRunId"] for a in answers}) == 1
    assert db.scalar(select(func.count()).select_from(Run)) == 1


def test_a_retried_multipart_upload_is_recognised_whatever_its_boundary(
    live_server: LiveServer, db: Session
) -> None:
    report = (Path(__file__).parents[1] / "data" / "junit" / "pytest.xml").read_bytes()

    def upload() -> httpx.Response:
        return httpx.post(
            f"{live_server.url}/api/test-runs/upload",
            data={"projectName": "junit", "branch": "main"},
            files={"file": ("pytest.xml", report, "application/xml")},
            headers={"Idempotency-Key": "upload-1"},
            timeout=60,
        )

    first, again = upload(), upload()
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json()["testRunId"] == first.json()["testRunId"]
    assert db.scalar(select(func.count()).select_from(Run)) == 1
