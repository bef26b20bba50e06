"""Three instances share one PostgreSQL database and one data directory; ingests, failing
ingests and deletions race on identical files. No acknowledged run may lose a file.

Before the fix, a rolled-back ingest deleted files a concurrent ingest had just reused (7 of
16 pairs lost files), and deleting a run while an ingest with the same screenshots arrived
lost them too.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from playdeck.db import make_engine
from playdeck.models import Attachment, Project, ReportFile, Run

from .services import Instance, Postgres, playdeck_bin, start_instances, stop_instances

PHENX = json.loads((Path(__file__).parents[1] / "data" / "phenx" / "submit.json").read_bytes())
CASES = PHENX.pop("testCases")
ROUNDS = 8
GRACE_SECONDS = 3


@dataclass
class Cluster:
    instances: list[Instance]
    engine: Engine
    files: Path


@pytest.fixture(scope="module")
def cluster(private_postgres: Postgres) -> Iterator[Cluster]:
    database = private_postgres.create_database(f"races_{secrets.token_hex(4)}")
    data = Path(tempfile.mkdtemp(prefix="playdeck-faults-data-"))
    env = {
        "PLAYDECK_DATABASE_URL": database,
        "PLAYDECK_DATA_DIR": str(data),
        "PLAYDECK_STORAGE_GRACE_SECONDS": str(GRACE_SECONDS),
    }
    # Migrated first: concurrent start-up has its own test (test_startup.py).
    subprocess.run(
        [playdeck_bin(), "db", "upgrade"], env={**os.environ, **env}, check=True, timeout=120
    )
    instances = start_instances(3, env, data)
    engine = make_engine(database)
    try:
        yield Cluster(instances, engine, data / "files")
    finally:
        stop_instances(instances)
        engine.dispose()
        shutil.rmtree(data, ignore_errors=True)


def _upload(url: str, traces: list[bytes], *, project: str, duplicate_report: bool) -> Any:
    parts: list[tuple[str, Any]] = [
        ("testRun", (None, json.dumps(PHENX))),
        ("testCases", (None, json.dumps(CASES))),
        ("projectName", (None, project)),
    ]
    parts += [(f"trace_{i}", ("trace.zip", t, "application/zip")) for i, t in enumerate(traces)]
    reports = 2 if duplicate_report else 1  # the same report twice fails after the files
    parts += [("report_html", ("index.html", b"<p>report</p>", "text/html"))] * reports
    return lambda: httpx.post(f"{url}/api/test-runs/upload", files=parts, timeout=60)


def together(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return [a for a in answers if a is not None]


def _blob(files: Path, sha: str) -> Path:
    return files / sha[:2] / sha[2:4] / sha


def _missing_files(cluster: Cluster) -> list[str]:
    with Session(cluster.engine) as session:
        shas = set(session.scalars(select(Attachment.sha256)))
        shas |= set(session.scalars(select(ReportFile.sha256)))
    return [sha for sha in shas if not _blob(cluster.files, sha).exists()]


def _traces() -> list[bytes]:
    return [secrets.token_bytes(16 * 1024) for _ in CASES]


def test_a_failing_ingest_never_takes_files_a_concurrent_one_stored(cluster: Cluster) -> None:
    a, b, _ = cluster.instances
    for _ in range(ROUNDS):
        traces = _traces()
        failing, succeeding = together(
            _upload(a.url, traces, project="races", duplicate_report=True),
            _upload(b.url, traces, project="races", duplicate_report=False),
        )
        assert failing.status_code == 422, failing.text
        assert succeeding.status_code == 201, succeeding.text
        assert _missing_files(cluster) == []


def test_deleting_a_run_never_takes_files_an_arriving_ingest_uses(cluster: Cluster) -> None:
    a, b, _ = cluster.instances
    for _ in range(ROUNDS):
        traces = _traces()
        first = _upload(a.url, traces, project="deletes", duplicate_report=False)()
        assert first.status_code == 201, first.text
        # Stored long ago as far as the grace period goes: deletable unless claimed again.
        then = time.time() - 10 * GRACE_SECONDS
        for path in cluster.files.glob("*/*/*"):
            if path.is_file():
                os.utime(path, (then, then))
        delete_url = f"{a.url}/api/test-runs/{first.json()['testRunId']}"

        def delete(url: str = delete_url) -> httpx.Response:
            return httpx.delete(url, timeout=60)

        deleted, arriving = together(
            delete, _upload(b.url, traces, project="deletes", duplicate_report=False)
        )
        assert deleted.status_code == 204, deleted.text
        assert arriving.status_code == 201, arriving.text
        assert _missing_files(cluster) == []


def test_sharded_first_submits_to_one_new_project_through_every_instance(
    cluster: Cluster,
) -> None:
    body = json.dumps({**PHENX, "testCases": CASES, "projectName": "sharded"}).encode()
    calls = [
        (
            lambda url=instance.url: httpx.post(
                f"{url}/api/test-runs/submit",
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=60,
            )
        )
        for instance in cluster.instances
        for _ in range(10)
    ]
    answers = together(*calls)
    assert [r.status_code for r in answers] == [201] * len(calls), [r.text for r in answers]
    with Session(cluster.engine) as session:
        assert session.scalar(select(func.count()).where(Project.name == "sharded")) == 1


def test_retries_with_one_key_through_every_instance_store_one_run(cluster: Cluster) -> None:
    body = json.dumps({**PHENX, "testCases": CASES, "projectName": "retried"}).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": secrets.token_hex(8)}
    calls = [
        (
            lambda url=instance.url: httpx.post(
                f"{url}/api/test-runs/submit", content=body, headers=headers, timeout=60
            )
        )
        for instance in cluster.instances
        for _ in range(4)
    ]
    answers = together(*calls)
    assert [r.status_code for r in answers] == [201] * len(calls), [r.text for r in answers]
    assert len({r.json()["testRunId"] for r in answers}) == 1
    with Session(cluster.engine) as session:
        count = session.scalar(
            select(func.count()).select_from(Run).join(Project).where(Project.name == "retried")
        )
    assert count == 1
