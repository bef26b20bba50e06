"""The plugin's runs in parts, end to end with real inner pytest sessions (subprocesses) and a
real server: a CI build's sessions merge into one run, a session streams its results while it
runs, and a streaming session killed mid-way leaves its results, closed as interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.ingest.live.sweeper import sweep_runs
from playdeck.kit.clock import utcnow
from playdeck.models import Attempt, Result, Run, RunPart, Test
from tests.fixtures.servers import LiveServer
from tests.pytest_plugin.test_plugin_live import FLAKY

pytest_plugins = ["pytester"]

HANGS = """
import time

def test_one():
    pass

def test_two():
    pass

def test_three():
    assert False

def test_zzz_hangs():
    time.sleep(600)
"""

# The rerun of test_flaky takes long enough for a batch to go between its two attempts.
SLOW_RERUN = """
import pathlib
import time

def test_flaky():
    marker = pathlib.Path("flaky-marker")
    if not marker.exists():
        marker.write_text("1")
        raise AssertionError("first run fails")
    time.sleep(1.5)

def test_steady():
    pass
"""

GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_RUN_ID": "4711"}


def run_inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)


def stream_with_one_rerun(
    pytester: pytest.Pytester, live_server: LiveServer, db: Session, *args: str
) -> tuple[pytest.RunResult, Run]:
    """Run the inner session streaming to ``live_server`` with one rerun of a failed test;
    the one run it made, checked closed with every test counted once."""
    result = run_inner(
        pytester,
        f"--playdeck-url={live_server.url}",
        "--playdeck-project=shop",
        "--playdeck-live",
        "--playdeck-live-interval=0.2",
        "--reruns",
        "1",
        *args,
    )
    assert result.ret == pytest.ExitCode.OK
    [run] = db.scalars(select(Run)).all()
    [part] = db.scalars(select(RunPart)).all()
    assert (part.state, part.tests) == ("closed", run.total)
    return result, run


def test_a_streamed_session_under_xdist_is_one_closed_run(
    pytester: pytest.Pytester, live_server: LiveServer, db: Session
) -> None:
    pytester.makepyfile(test_flaky=FLAKY)
    result, run = stream_with_one_rerun(pytester, live_server, db, "-n", "2")
    assert any(
        f"playdeck: results sent live: {live_server.url}/runs/{run.id}" in line
        for line in result.outlines
    ), result.outlines
    assert (run.status, run.total, run.passed, run.flaky) == ("passed", 5, 4, 1)


def test_a_rerun_test_is_sent_once_with_every_attempt_even_when_a_batch_goes_between_them(
    pytester: pytest.Pytester, live_server: LiveServer, db: Session
) -> None:
    # pytest-rerunfailures ends every attempt with pytest_runtest_logfinish, not only the last.
    pytester.makepyfile(test_flaky=SLOW_RERUN)
    _, run = stream_with_one_rerun(pytester, live_server, db)
    assert (run.status, run.total, run.passed, run.flaky) == ("passed", 2, 1, 1)
    attempts = db.scalars(
        select(Attempt.status)
        .join(Result, Result.id == Attempt.result_id)
        .join(Test, Test.id == Result.test_id)
        .where(Result.run_id == run.id, Test.title == "test_flaky")
        .order_by(Attempt.retry)
    ).all()
    assert attempts == ["failed", "passed"]


def test_the_jobs_of_one_ci_build_make_one_run(
    pytester: pytest.Pytester,
    live_server: LiveServer,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in GITHUB.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_flaky=FLAKY)
    # Two jobs of a CI matrix running the same tests: test_flaky fails in the first only.
    exits = [
        run_inner(
            pytester,
            f"--playdeck-url={live_server.url}",
            "--playdeck-project=shop",
            f"--playdeck-tag=py{python}",
        ).ret
        for python in ("3.12", "3.13")
    ]
    assert exits == [pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.OK]
    [run] = db.scalars(select(Run)).all()
    assert run.run_key == "github-actions:acme/shop/4711"
    assert (run.status, run.total, run.flaky, run.passed) == ("passed", 5, 1, 4)
    assert run.tags == ["py3.12", "py3.13"]
    assert len(db.scalars(select(RunPart)).all()) == 2


def _received(url: str, project: str) -> int:
    runs = httpx.get(f"{url}/api/test-runs", params={"project": project}, timeout=10)
    if runs.status_code != 200 or not runs.json()["items"]:
        return 0
    total: int = runs.json()["items"][0]["counts"]["total"]
    return total


def test_a_streamed_session_killed_mid_way_is_closed_as_interrupted_by_the_heartbeat_timeout(
    pytester: pytest.Pytester, live_server: LiveServer, db: Session, engine: Engine
) -> None:
    pytester.makepyfile(test_hangs=HANGS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    inner = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            f"--playdeck-url={live_server.url}",
            "--playdeck-project=killed",
            "--playdeck-live",
            "--playdeck-live-interval=0.2",
        ],
        cwd=pytester.path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while _received(live_server.url, "killed") < 3:
            assert inner.poll() is None, "the inner session ended before it was killed"
            assert time.monotonic() < deadline, "the first three tests never arrived"
            time.sleep(0.2)
    finally:
        inner.send_signal(signal.SIGKILL)  # no chance to close its part
        inner.wait(30)

    [run] = db.scalars(select(Run)).all()
    assert (run.status, run.total) == ("running", 3)

    sweep_runs(engine, heartbeat_seconds=300, shard_wait_seconds=3600, now=utcnow())
    db.rollback()  # a new snapshot: what the sweep committed
    assert db.get_one(Run, run.id).status == "running"  # not silent for long enough yet

    later = utcnow() + timedelta(seconds=301)
    swept = sweep_runs(engine, heartbeat_seconds=300, shard_wait_seconds=3600, now=later)
    assert swept.interrupted_parts == 1
    db.rollback()  # a new snapshot: what the sweep committed
    run = db.get_one(Run, run.id)
    assert (run.status, run.total, run.passed, run.failed) == ("interrupted", 3, 2, 1)
    [part] = db.scalars(select(RunPart)).all()
    assert (part.state, part.tests, part.expected_tests) == ("interrupted", 3, 4)
