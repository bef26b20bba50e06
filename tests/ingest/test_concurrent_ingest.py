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

from ..conftest import LiveServer

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
