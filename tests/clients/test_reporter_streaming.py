"""The JavaScript reporter's live mode against a real server: a node process drives the
reporter with Playwright-shaped objects (the reporter's own test fakes), streams two batches,
and the server stores one closed run; killed mid-way, the run is closed as interrupted."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.ingest.live.sweeper import sweep_runs
from playdeck.kit.clock import utcnow
from playdeck.models import Run, RunPart
from tests.fixtures.servers import LiveServer

pytestmark = pytest.mark.node

REPORTER = Path(__file__).parents[2] / "clients" / "playwright-reporter"

# Two tests end, a batch goes; a third ends, then the process waits (to be killed) or ends.
DRIVER = """
const PlaydeckReporter = require('./index.js');
const { config, project, result, root, suite, testCase } = require('./test/fakes');
const [serverUrl, mode] = process.argv.slice(1);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  const a = testCase('adds to cart');
  const failed = result({ status: 'failed', error: { message: 'boom' } });
  const b = testCase('checks out', { results: [failed] });
  const c = testCase('pays', { line: 9 });
  const tests = [a, b, c];
  const rootSuite = root([project('desktop', [suite('file', 'shop.spec.js', tests)])]);
  const reporter = new PlaydeckReporter({
    serverUrl, projectName: 'js-live', live: true, liveIntervalMs: 100, runKey: 'js-build-1',
  });
  reporter.onBegin(config(), rootSuite);
  reporter.onTestEnd(a, a.results[0]);
  reporter.onTestEnd(b, b.results[0]);
  const live = reporter.live;
  while (!live.partPath || live.finished.length || live.unsent) await sleep(50);
  console.log('first batch sent');
  if (mode === 'hang') { setInterval(() => {}, 1000); return; }
  reporter.onTestEnd(c, c.results[0]);
  await reporter.onEnd({ status: 'failed', startTime: new Date(), duration: 10 });
})();
"""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    return node


def _drive(server: LiveServer, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [_node(), "-e", DRIVER, server.url, mode],
        cwd=REPORTER,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin"},
    )


def test_the_reporter_streams_a_run_the_server_stores_and_closes(
    live_server: LiveServer, db: Session
) -> None:
    process = _drive(live_server, "end")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, out + err
    [run] = db.scalars(select(Run)).all()
    assert f"Playdeck: {live_server.url}/runs/{run.id}" in out, out + err
    assert (run.status, run.total, run.passed, run.failed) == ("failed", 3, 2, 1)
    assert run.run_key == "js-build-1"
    [part] = db.scalars(select(RunPart)).all()
    assert (part.state, part.tests, part.expected_tests) == ("closed", 3, 3)


def test_a_killed_reporter_process_leaves_an_interrupted_run(
    live_server: LiveServer, db: Session, engine: Engine
) -> None:
    process = _drive(live_server, "hang")
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        line = ""
        while "first batch sent" not in line and time.monotonic() < deadline:
            line = process.stdout.readline()
        assert "first batch sent" in line
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    later = utcnow() + timedelta(seconds=301)
    sweep_runs(engine, heartbeat_seconds=300, shard_wait_seconds=3600, now=later)
    [run] = db.scalars(select(Run)).all()
    assert (run.status, run.total, run.failed) == ("interrupted", 2, 1)
