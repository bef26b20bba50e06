"""Shards of one CI build uploaded at once to two ``playdeck serve`` instances sharing one
PostgreSQL database: one run, every test counted once, whatever order the shards commit in."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playdeck.db import make_engine
from playdeck.models import Result, Run, RunPart
from tests.fixtures.database import create_postgres_database, drop_postgres_database
from tests.ingest.live_support import FAIL, PASS, junit

from .processes import Server, clean_env, playdeck_serve

SHARDS = 8
TESTS_PER_SHARD = 40


@pytest.fixture
def database(postgres_server: str) -> Iterator[str]:
    url = create_postgres_database(postgres_server)
    yield url
    drop_postgres_database(postgres_server, url)


def _shard_report(index: int) -> bytes:
    tests = {f"shard {index} test {n}": PASS for n in range(TESTS_PER_SHARD)}
    if index == 3:
        tests[f"shard {index} test 0"] = FAIL
    return junit(tests, suite=f"suite{index}")


def _send_all_at_once(servers: list[Server]) -> list[httpx.Response]:
    order = list(range(1, SHARDS + 1))
    random.shuffle(order)
    barrier = threading.Barrier(SHARDS)
    answers: dict[int, httpx.Response] = {}

    def send(position: int, index: int) -> None:
        server = servers[position % len(servers)]
        barrier.wait()
        answers[index] = httpx.post(
            f"{server.url}/api/test-runs/upload",
            data={"projectName": "sharded", "runKey": "gh-4242", "shard": f"{index}/{SHARDS}"},
            files={"file": (f"shard-{index}.xml", _shard_report(index), "application/xml")},
            timeout=120,
        )

    threads = [threading.Thread(target=send, args=pair) for pair in enumerate(order)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return [answers[i] for i in sorted(answers)]


def test_shards_sent_at_once_to_two_instances_on_postgresql_make_one_run(
    database: str, workdir: Path
) -> None:
    env = clean_env(
        PLAYDECK_DATABASE_URL=database,
        PLAYDECK_DATA_DIR=str(workdir / "data"),  # shared, as instances of one deployment share it
        PLAYDECK_RUN_SWEEP_SECONDS="0",
    )
    # One after the other: the first applies the migrations.
    with (
        playdeck_serve(env=env, workdir=workdir, name="one") as one,
        playdeck_serve(env=env, workdir=workdir, name="two") as two,
    ):
        answers = _send_all_at_once([one, two])
        assert [a.status_code for a in answers] == [201] * SHARDS, [a.text for a in answers]
        assert len({a.json()["testRunId"] for a in answers}) == 1
        run = httpx.get(f"{two.url}/api/test-runs/{answers[0].json()['testRunId']}").json()

    assert run["status"] == "failed"
    assert run["shards"] == {"total": SHARDS, "arrived": list(range(1, SHARDS + 1)), "missing": []}
    counts = run["counts"]
    assert (counts["total"], counts["failed"]) == (SHARDS * TESTS_PER_SHARD, 1)
    assert counts["passed"] == SHARDS * TESTS_PER_SHARD - 1
    engine = make_engine(database)
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Run)) == 1
            assert session.scalar(select(func.count()).select_from(RunPart)) == SHARDS
            assert session.scalar(select(func.count()).select_from(Result)) == (
                SHARDS * TESTS_PER_SHARD
            )
    finally:
        engine.dispose()
