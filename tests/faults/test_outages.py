"""What clients see when a dependency fails, against real ``playdeck serve`` processes."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playdeck.db import make_engine
from playdeck.models import Run, User

from .services import Instance, Postgres, Redis, playdeck_bin

SECRET = "fault-suite-secret-" + "0123456789abcdef" * 2
ADMIN = {"username": "boss", "password": "quartz meridian lantern 4471"}
AUTH_ENV = {
    "PLAYDECK_REQUIRE_AUTH": "true",
    "PLAYDECK_SECRET_KEY": SECRET,
    "PLAYDECK_ADMIN_USERNAME": ADMIN["username"],
    "PLAYDECK_ADMIN_PASSWORD": ADMIN["password"],
    "PLAYDECK_LOGIN_RATE_LIMIT": "1000/minute",
    "PLAYDECK_LOGIN_ACCOUNT_RATE_LIMIT": "1000/minute",
}
PHENX = json.loads((Path(__file__).parents[1] / "data" / "phenx" / "submit.json").read_bytes())
CASES = PHENX.pop("testCases")
STORM = 60
# "About a second" on an idle machine; generous on this shared 2-core one.
BOUND_SECONDS = 3.0


def _bearer(url: str) -> dict[str, str]:
    response = httpx.post(f"{url}/api/auth/login", json=ADMIN, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _timed(call: Callable[[], httpx.Response]) -> tuple[int, float]:
    started = time.monotonic()
    try:
        status = call().status_code
    except httpx.HTTPError:
        status = 0
    return status, time.monotonic() - started


def test_a_frozen_redis_answers_503_within_the_bound_and_reads_stay_fast(
    private_redis: Redis, tmp_path: Path, instances: Callable[..., list[Instance]]
) -> None:
    [server] = instances(
        1,
        {
            **AUTH_ENV,
            "PLAYDECK_DATA_DIR": str(tmp_path / "data"),
            "PLAYDECK_REDIS_URL": private_redis.url,
        },
    )
    bearer = _bearer(server.url)
    # One client for the storm: building 60 (TLS contexts and all) would cost seconds of
    # this machine's CPU and be measured as the server's latency.
    http = httpx.Client(
        base_url=server.url, timeout=30, limits=httpx.Limits(max_connections=STORM + 2)
    )
    private_redis.freeze()
    try:
        logins: list[tuple[int, float]] = []
        barrier = threading.Barrier(STORM)

        def login() -> None:
            barrier.wait()
            logins.append(_timed(lambda: http.post("/api/auth/login", json=ADMIN)))

        storm = [threading.Thread(target=login) for _ in range(STORM)]
        for thread in storm:
            thread.start()
        time.sleep(0.2)
        health = _timed(lambda: http.get("/healthz"))
        read = _timed(lambda: http.get("/api/projects", headers=bearer))
        for thread in storm:
            thread.join(60)
        assert {status for status, _ in logins} == {503}
        assert max(seconds for _, seconds in logins) < BOUND_SECONDS, sorted(logins)[-3:]
        assert health[0] == 200 and health[1] < BOUND_SECONDS, health
        assert read[0] == 200 and read[1] < BOUND_SECONDS, read
    finally:
        private_redis.thaw()
        http.close()
    deadline = time.monotonic() + 10
    while httpx.post(f"{server.url}/api/auth/login", json=ADMIN, timeout=10).status_code != 200:
        assert time.monotonic() < deadline, "logins did not recover after Redis came back"
        time.sleep(0.5)


@pytest.fixture
def on_private_postgres(
    private_postgres: Postgres, tmp_path: Path, instances: Callable[..., list[Instance]]
) -> Iterator[tuple[Instance, str]]:
    database = private_postgres.create_database(f"outage_{secrets.token_hex(4)}")
    [server] = instances(
        1, {**AUTH_ENV, "PLAYDECK_DATABASE_URL": database, "PLAYDECK_DATA_DIR": str(tmp_path / "d")}
    )
    yield server, database


def test_a_stopped_postgresql_gives_503_then_recovers_without_a_restart(
    private_postgres: Postgres, on_private_postgres: tuple[Instance, str]
) -> None:
    server, database = on_private_postgres
    bearer = _bearer(server.url)
    browser = httpx.Client(base_url=server.url, timeout=30)
    assert browser.post("/api/auth/login", json=ADMIN).status_code == 200  # session cookie
    private_postgres.stop()
    try:
        read = httpx.get(f"{server.url}/api/projects", headers=bearer, timeout=30)
        assert read.status_code == 503, read.text
        assert read.headers["content-type"] == "application/problem+json"
        assert read.headers["retry-after"] == "5"
        assert read.json()["code"] == "database_unavailable"
        wrong = {**ADMIN, "password": "not the password at all"}
        assert httpx.post(f"{server.url}/api/auth/login", json=wrong, timeout=30).status_code == 503
        assert httpx.post(f"{server.url}/api/auth/login", json=ADMIN, timeout=30).status_code == 503
        page = browser.get("/", headers={"Accept": "text/html"})
        assert page.status_code == 503, page.text
        assert "Temporarily unavailable" in page.text
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        ready = httpx.get(f"{server.url}/readyz", timeout=30)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"]["status"] == "failing"
    finally:
        browser.close()
        private_postgres.start()
    deadline = time.monotonic() + 20
    while httpx.get(f"{server.url}/api/projects", headers=bearer, timeout=30).status_code != 200:
        assert time.monotonic() < deadline, "the server did not recover after PostgreSQL restarted"
        time.sleep(0.5)
    engine = make_engine(database)
    try:
        with Session(engine) as session:
            admin = session.scalars(select(User).where(User.username == "boss")).one()
            # The refused attempt during the outage was not counted against the account.
            assert admin.failed_login_attempts == 0
    finally:
        engine.dispose()


def _phenx_upload(url: str, traces: list[bytes]) -> httpx.Response:
    parts: list[tuple[str, object]] = [
        ("testRun", (None, json.dumps(PHENX))),
        ("testCases", (None, json.dumps(CASES))),
        ("projectName", (None, "faults")),
    ]
    parts += [(f"trace_{i}", ("trace.zip", t, "application/zip")) for i, t in enumerate(traces)]
    return httpx.post(f"{url}/api/test-runs/upload", files=parts, timeout=120)  # type: ignore[arg-type]


def _blobs(files: Path) -> set[str]:
    return {p.name for p in files.rglob("*") if p.is_file() and p.parent.parent.parent == files}


def test_kill_9_mid_ingest_leaves_no_run_and_storage_gc_removes_the_orphans(
    private_postgres: Postgres, tmp_path: Path, instances: Callable[..., list[Instance]]
) -> None:
    database = private_postgres.create_database(f"kill_{secrets.token_hex(4)}")
    env = {"PLAYDECK_DATABASE_URL": database, "PLAYDECK_DATA_DIR": str(tmp_path / "data")}
    [server] = instances(1, env)
    files = tmp_path / "data" / "files"
    kept = _phenx_upload(server.url, [secrets.token_bytes(1024) for _ in CASES])
    assert kept.status_code == 201
    before = _blobs(files)

    big = [secrets.token_bytes(1024 * 1024) for _ in CASES]
    answers: list[object] = []
    sender = threading.Thread(
        target=lambda: _safely(lambda: answers.append(_phenx_upload(server.url, big)))
    )
    sender.start()
    deadline = time.monotonic() + 60
    while len(_blobs(files)) < len(before) + 3:  # the ingest is storing its files
        assert not answers, f"the ingest ended before it could be killed: {answers}"
        assert time.monotonic() < deadline, "the ingest never started storing files"
        time.sleep(0.005)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(10)
    sender.join(60)

    engine = make_engine(database)
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Run)) == 1
    finally:
        engine.dispose()
    orphans = _blobs(files) - before
    assert orphans

    gc_env = {**os.environ, **env}
    dry = subprocess.run(
        [playdeck_bin(), "storage", "gc", "--older-than", "0"],
        env=gc_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert f"orphan files: {len(orphans)} " in dry.stdout, dry.stdout
    assert "rows whose file is missing: 0" in dry.stdout
    assert _blobs(files) - before == orphans  # a dry run changes nothing
    applied = subprocess.run(
        [playdeck_bin(), "storage", "gc", "--apply", "--older-than", "0"],
        env=gc_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "removed" in applied.stdout
    assert _blobs(files) == before  # the acknowledged run keeps every file
    assert not any((files / "tmp").iterdir())


def _safely(call: Callable[[], object]) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server is killed under it
        call()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mountpoint)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=False)


def test_a_full_disk_is_a_507_and_leaves_no_run_and_no_files(
    private_postgres: Postgres, small_disk: Path, instances: Callable[..., list[Instance]]
) -> None:
    database = private_postgres.create_database(f"disk_{secrets.token_hex(4)}")
    [server] = instances(
        1, {"PLAYDECK_DATABASE_URL": database, "PLAYDECK_DATA_DIR": str(small_disk)}
    )
    response = _phenx_upload(server.url, [secrets.token_bytes(256 * 1024) for _ in CASES])
    assert response.status_code == 507, response.text
    assert response.json()["code"] == "insufficient_storage"
    engine = make_engine(database)
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Run)) == 0
    finally:
        engine.dispose()
    assert _blobs(small_disk / "files") == set()
    assert not any((small_disk / "files" / "tmp").iterdir())
