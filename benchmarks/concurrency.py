"""Reads during a big ingest: runs-list latency seen by N readers while a large report is stored.

Starts ``playdeck serve`` (one process, as deployed) on a fresh database, stores a few small runs
so the runs list has a page to show, then:

1. ``baseline``: N reader threads call ``GET /api/test-runs`` back to back for a few seconds;
2. ``ingest alone``: the large report is sent twice with no readers (the first also creates the
   test identities; the second is the one compared);
3. ``during ingest``: the same report is sent again while the N readers run, and every read that
   starts before the ingest's ``201`` arrives counts.

It prints the reads' p50/p99/max latency in each phase, and the ingest's wall and server CPU time
alone and with readers.

    python benchmarks/concurrency.py                       # 8 readers, 100,000 tests, SQLite
    python benchmarks/concurrency.py --tests 20000 --readers 4
    python benchmarks/concurrency.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Target (issue "performance"): read p99 <= 150 ms with 8 readers while a 100,000-test report
ingests. Printed, never asserted. The readers are threads of this process, on the same cores as
the server: on a 2-core machine they compete with it, as real users' browsers would not.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson
from server import Server, load_average, machine, playdeck_server, postgres_database

from ingest import generate_report, send  # benchmarks/ingest.py

SMALL_RUNS = 60  # more than one page of the runs list
TARGET_P99_MS = 150.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class Readers:
    """Threads reading the runs list until stopped; each read's start time and latency."""

    def __init__(self, server: Server, count: int) -> None:
        self.server = server
        self.stop = threading.Event()
        self.reads: list[tuple[float, float]] = []  # (started, seconds)
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._read) for _ in range(count)]

    def _read(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=600) as client:
            while not self.stop.is_set():
                start = time.perf_counter()
                response = client.get("/api/test-runs")
                elapsed = time.perf_counter() - start
                if response.status_code != 200:
                    raise SystemExit(f"runs list: HTTP {response.status_code}")
                with self._lock:
                    self.reads.append((start, elapsed))

    def __enter__(self) -> Readers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join()


def describe(label: str, latencies: list[float]) -> None:
    ms = [s * 1000 for s in latencies]
    if not ms:
        print(f"{label}: no reads")
        return
    print(
        f"{label}: {len(ms):,} reads, p50 {statistics.median(ms):.1f} ms, "
        f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms"
    )


def run(server: Server, args: argparse.Namespace, scratch: Path) -> None:
    print(f"building the {args.tests:,}-test reports ...")
    bodies = [orjson.dumps(generate_report(args.tests, seed=seed)) for seed in (1, 2, 3)]
    with httpx.Client(timeout=600) as client:
        small = orjson.dumps(generate_report(20, seed=1))
        for _ in range(SMALL_RUNS):
            send(client, server, "submit", small, scratch)

        print(f"before: {load_average()}")
        with Readers(server, args.readers) as readers:
            time.sleep(args.baseline_seconds)
        describe(f"baseline, {args.readers} readers, no ingest", [s for _, s in readers.reads])

        send(client, server, "submit", bodies[0], scratch)  # creates the test identities
        alone = send(client, server, "submit", bodies[1], scratch)
        print(
            f"ingest alone: {alone.seconds * 1000:,.0f} ms, server CPU "
            f"{alone.server_cpu * 1000:,.0f} ms ({alone.body_bytes / 1e6:.0f} MB body)"
        )

        with Readers(server, args.readers) as readers:
            time.sleep(0.5)  # readers running before the ingest starts
            started = time.perf_counter()
            during = send(client, server, "submit", bodies[2], scratch)
            finished = time.perf_counter()
        in_window = [s for at, s in readers.reads if started <= at < finished]
        describe(f"during ingest, {args.readers} readers", in_window)
        print(
            f"ingest with readers: {during.seconds * 1000:,.0f} ms "
            f"({during.seconds / alone.seconds:.1f}x alone), server CPU "
            f"{during.server_cpu * 1000:,.0f} ms (readers' requests included)"
        )
        print(f"after: {load_average()}")
        if in_window:
            p99 = percentile([s * 1000 for s in in_window], 0.99)
            verdict = "met" if p99 <= TARGET_P99_MS else "MISSED"
            print(f"target: read p99 <= {TARGET_P99_MS:.0f} ms during the ingest: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=100_000, help="tests in the large report")
    parser.add_argument("--readers", type=int, default=8, help="reader threads")
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an existing, empty database (default: SQLite)")
    where.add_argument("--postgres", metavar="SERVER_URL", help="throwaway database on a server")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="playdeck-bench-")))
        (scratch / "data").mkdir()
        if args.postgres:
            database_url = stack.enter_context(postgres_database(args.postgres))
        else:
            database_url = args.database_url or f"sqlite:///{scratch / 'data' / 'playdeck.db'}"
        print(f"Machine: {machine(database_url)}")
        server = stack.enter_context(
            playdeck_server(
                database_url,
                scratch / "data",
                env={"PLAYDECK_MAX_UPLOAD_MB": "1024"},
                port=args.port,
            )
        )
        run(server, args, scratch)


if __name__ == "__main__":
    main()
