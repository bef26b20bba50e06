"""``playdeck backup`` taken while a real ``playdeck serve`` receives submits, restored with
``playdeck restore`` into a fresh data directory (and database) and served again: every run the
backup holds comes back with every attachment and report file readable over HTTP.

On PostgreSQL (``PLAYDECK_TEST_DATABASE_URL``) the same test runs with fresh databases for the
source and the restore, through ``pg_dump`` and ``pg_restore``.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
from typer.testing import CliRunner, Result

from playdeck.backup.layout import Manifest
from playdeck.cli.main import app as cli

from .support import environment, playdeck, postgres_database, serving

SEED_RUNS = 5
PAUSE_SECONDS = 0.05
WAIT_SECONDS = 120


@dataclass
class Submitted:
    trace: bytes
    page: bytes
    started: float
    ended: float


@dataclass
class Load:
    """Submits (the PhenX reporter's multipart upload, a trace and an HTML report of its
    own each) in a loop, from a thread, until stopped."""

    url: str
    runs: dict[int, Submitted] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def submit(self, http: httpx.Client, n: int) -> None:
        trace = f"PK trace of submit {n} {os.urandom(8).hex()}".encode()
        page = f"<html><body>report of submit {n}</body></html>".encode()
        test_run = {"status": "failed", "startTime": int(time.time() * 1000), "duration": 50}
        cases = [
            {
                "title": f"pays {n % 7}",
                "location": "tests/checkout.spec.ts:3:5",
                "status": "failed",
                "duration": 50,
                "error": "boom",
                "retries": 0,
            }
        ]
        started = time.monotonic()
        response = http.post(
            "/api/test-runs/upload",
            data={
                "projectName": "Shop",
                "testRun": orjson.dumps(test_run).decode(),
                "testCases": orjson.dumps(cases).decode(),
            },
            files={
                "trace_0": ("trace.zip", trace, "application/zip"),
                "report_html": ("index.html", page, "text/html"),
            },
        )
        if response.status_code != 201:
            self.errors.append(f"{response.status_code} {response.text[:200]}")
            return
        self.runs[response.json()["testRunId"]] = Submitted(trace, page, started, time.monotonic())

    def loop(self) -> None:
        n = SEED_RUNS
        with httpx.Client(base_url=self.url, timeout=60) as http:
            # A steady stream rather than a flood: every run submitted is checked afterwards.
            while not self.stop.wait(PAUSE_SECONDS):
                n += 1
                self.submit(http, n)


def _wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _served_runs(http: httpx.Client) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        params = {"project": "shop", "limit": "200", **({"cursor": cursor} if cursor else {})}
        page = http.get("/api/test-runs", params=params).json()
        ids += [run["id"] for run in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def _check_run(http: httpx.Client, run_id: int, expected: Submitted) -> None:
    (test,) = http.get(f"/api/test-runs/{run_id}/tests").json()["items"]
    (attachment,) = [a for attempt in test["attempts"] for a in attempt["attachments"]]
    response = http.get(attachment["url"])
    assert response.status_code == 200 and response.content == expected.trace, run_id
    (report,) = http.get(f"/api/test-runs/{run_id}").json()["reports"]
    response = http.get(report["url"], follow_redirects=True)
    assert response.status_code == 200 and response.content == expected.page, run_id


def test_a_backup_taken_under_load_restores_every_run_and_file(tmp_path: Path) -> None:
    server = os.environ.get("PLAYDECK_TEST_DATABASE_URL")
    dest = tmp_path / "backup"
    with ExitStack() as stack:
        source_db = stack.enter_context(postgres_database(server)) if server else None
        target_db = stack.enter_context(postgres_database(server)) if server else None
        source_env = environment(tmp_path / "source", source_db)
        url = stack.enter_context(serving(source_env, tmp_path / "source.log"))

        load = Load(url)
        with httpx.Client(base_url=url, timeout=60) as http:
            for n in range(SEED_RUNS):
                load.submit(http, n)
        worker = threading.Thread(target=load.loop)
        worker.start()
        try:
            _wait_for(lambda: len(load.runs) >= SEED_RUNS + 3, "the load did not get going")
            backup_started = time.monotonic()
            done = playdeck("backup", str(dest), env=source_env)
            backup_ended = time.monotonic()
            _wait_for(
                lambda: any(s.started > backup_ended for s in load.runs.values()),
                "no submit after the backup",
            )
        finally:
            load.stop.set()
            worker.join(WAIT_SECONDS)
        assert done.returncode == 0, done.stderr
        assert load.errors == []
        # Submits were landing while the backup ran.
        assert any(
            s.started < backup_ended and s.ended > backup_started for s in load.runs.values()
        )

        manifest = Manifest.read(dest)
        assert manifest.missing_files == []
        assert manifest.database == ("postgresql" if server else "sqlite")

        target_env = environment(tmp_path / "restored", target_db)
        restored = playdeck("restore", str(dest), env=target_env)
        assert restored.returncode == 0, restored.stderr
        url = stack.enter_context(serving(target_env, tmp_path / "restored.log"))
        with httpx.Client(base_url=url, timeout=60) as http:
            served = _served_runs(http)
            before_backup = {i for i, s in load.runs.items() if s.ended < backup_started}
            after_backup = {i for i, s in load.runs.items() if s.started > backup_ended}
            assert before_backup <= set(served)
            assert not after_backup & set(served)
            assert set(served) <= set(load.runs)
            for run_id in served:
                _check_run(http, run_id, load.runs[run_id])
        assert manifest.files == 2 * len(served)


def test_backup_and_restore_refuse_to_overwrite(tmp_path: Path) -> None:
    """In-process (the commands' refusals, not the processes, are under test here)."""
    database: AbstractContextManager[str | None]
    if os.environ.get("PLAYDECK_TEST_DATABASE_URL"):
        database = postgres_database(os.environ["PLAYDECK_TEST_DATABASE_URL"])
    else:
        database = nullcontext(None)
    runner = CliRunner()
    with database as url:
        env = environment(tmp_path / "data", url)

        def run(*args: str) -> Result:
            return runner.invoke(cli, list(args), env=env)

        assert run("db", "upgrade").exit_code == 0
        assert run("backup", str(tmp_path / "b")).exit_code == 0
        again = run("backup", str(tmp_path / "b"))
        assert again.exit_code == 1 and "not an empty directory" in again.output
        refused = run("restore", str(tmp_path / "b"))
        assert refused.exit_code == 1 and "pass --force" in refused.output
        assert refused.exception is None or isinstance(refused.exception, SystemExit)
        forced = run("restore", "--force", str(tmp_path / "b"))
        assert forced.exit_code == 0, forced.output
        not_a_backup = run("restore", str(tmp_path))
        assert not_a_backup.exit_code == 1 and "not a Playdeck backup" in not_a_backup.output
