"""Retention: how fast ``playdeck prune`` deletes, and what ingest latency looks like meanwhile.

Starts ``playdeck serve`` (one process, retention schedule off) on a fresh database and stores
``--runs`` runs of ``--tests`` tests each (generated Playwright reports, started in 2025, with a
small screenshot on every failed attempt) in project ``old``; gives ``old`` a 30-day policy; then:

1. ``ingest alone``: small reports (``--live-tests`` tests) are submitted back to back to project
   ``live`` for a few seconds;
2. ``during prune``: ``playdeck prune`` runs as its own process (the command operators run, with
   ``--batch-size``) while the same submits go on, and every submit that starts before the prune
   exits counts.

It prints the prune's wall time, runs and results deleted per second, and the submits' p50/p99/
max latency in each phase: the claim under test is that a prune does not hold ingest up for long
(each batch is its own short transaction). Printed, never asserted.

    python benchmarks/retention.py                                  # SQLite, 200 runs x 500 tests
    python benchmarks/retention.py --runs 500 --tests 1000 --batch-size 20
    python benchmarks/retention.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson
from concurrency import percentile  # benchmarks/concurrency.py
from server import PLAYDECK, Server, load_average, machine, playdeck_server, postgres_database

from ingest import generate_report  # benchmarks/ingest.py

ALONE_SECONDS = 5.0


def submit(client: httpx.Client, server: Server, project: str, body: bytes) -> float:
    start = time.perf_counter()
    response = client.post(
        f"{server.url}/api/test-runs/submit",
        params={"projectName": project},
        content=body,
        headers={"Content-Type": "application/json"},
    )
    elapsed = time.perf_counter() - start
    if response.status_code != 201:
        raise SystemExit(f"submit: HTTP {response.status_code}: {response.text[:300]}")
    return elapsed


class Submitter:
    """Submits small reports to ``live`` until stopped; each submit's start and latency."""

    def __init__(self, server: Server, body: bytes) -> None:
        self.server = server
        self.body = body
        self.stop = threading.Event()
        self.done: list[tuple[float, float]] = []
        self._thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with httpx.Client(timeout=120) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                self.done.append((started, submit(client, self.server, "live", self.body)))

    def __enter__(self) -> Submitter:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self._thread.join()


def summary(latencies: list[float]) -> str:
    if not latencies:
        return "no submits"
    ms = [s * 1000 for s in latencies]
    return (
        f"{len(ms)} submits, p50 {percentile(ms, 0.5):.0f} ms, "
        f"p99 {percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--tests", type=int, default=500)
    parser.add_argument("--live-tests", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if args.postgres:
            database_url = stack.enter_context(postgres_database(args.postgres))
        else:
            database_url = f"sqlite:///{scratch / 'playdeck.db'}"
        data_dir = scratch / "data"
        env = {"PLAYDECK_RETENTION_INTERVAL_SECONDS": "0"}
        server = stack.enter_context(
            playdeck_server(database_url, data_dir, env=env, port=args.port)
        )
        print(machine(database_url))
        print(load_average())

        print(f"storing {args.runs} runs of {args.tests} tests ...", flush=True)
        with httpx.Client(timeout=300) as client:
            for seed in range(args.runs):
                body = orjson.dumps(generate_report(args.tests, seed=seed))
                submit(client, server, "old", body)
            policy = client.put(f"{server.url}/api/projects/old/retention", json={"keep_days": 30})
            assert policy.status_code == 200, policy.text
            results = client.get(f"{server.url}/api/projects/old/usage").json()["results"]
        live = orjson.dumps(generate_report(args.live_tests, seed=10_000, attachments=False))

        with Submitter(server, live) as alone:
            time.sleep(ALONE_SECONDS)
        print(f"ingest alone:  {summary([s for _t, s in alone.done])}")

        command = [
            PLAYDECK,
            "prune",
            "--batch-size",
            str(args.batch_size),
        ]
        environment = {
            **os.environ,
            "PLAYDECK_DATABASE_URL": database_url,
            "PLAYDECK_DATA_DIR": str(data_dir),
        }
        with Submitter(server, live) as during:
            time.sleep(0.5)  # the submits are under way before the prune starts
            prune_start = time.perf_counter()
            done = subprocess.run(command, env=environment, capture_output=True, text=True)
            prune_end = time.perf_counter()
        if done.returncode != 0:
            raise SystemExit(f"playdeck prune failed: {done.stderr}")
        seconds = prune_end - prune_start
        overlapping = [s for t, s in during.done if prune_start <= t < prune_end]
        print(f"prune:         {done.stdout.strip()}")
        print(
            f"               {seconds:.1f} s (process start included), "
            f"{args.runs / seconds:.0f} runs/s, {results / seconds:.0f} results/s, "
            f"batch size {args.batch_size}"
        )
        print(f"during prune:  {summary(overlapping)}")


if __name__ == "__main__":
    main()
