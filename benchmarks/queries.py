"""Read API latency over a large history: N runs x M tests (1,000,000 results by default).

Seeds a fresh database directly with bulk Core inserts (no HTTP, no parsing): one project, M test
identities, N runs spread evenly over ``--span-days`` (default 90, so a 30-day window holds a
third of the history), one result per test per run, its attempts (two when a retry happened) and
a screenshot attachment row on every failed attempt. Test behaviour is seeded-random but
realistic: most tests stable, a few flaky, a few broken for a while, a few always skipped.

Then starts ``playdeck serve`` on a free loopback port and measures each endpoint ``--calls``
times (after a few warm-up calls), cycling through different runs and tests:

    runs list          GET /api/test-runs                        first page, all projects
    run tests          GET /api/test-runs/{id}/tests             first page, failures first
    test history       GET /api/tests/{id}/history               first page
    project tests      GET /api/projects/bench/tests             first page (no target)
    flaky (30 days)    GET /api/projects/bench/flaky?days=30
    trends (50 runs)   GET /api/projects/bench/trends?runs=50

    python benchmarks/queries.py                                   # SQLite in a temp dir
    python benchmarks/queries.py --runs 100 --tests 500            # quick
    python benchmarks/queries.py --only "project tests, 500"       # one endpoint
    python benchmarks/queries.py --database-url postgresql+psycopg://postgres@127.0.0.1/postgres

With a PostgreSQL URL, a throwaway database is created on that server and dropped afterwards.
Targets (issue "server foundation"): p95 < 50 ms for the first three, < 300 ms for flaky and
trends. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from server import (
    Server,
    load_average,
    machine,
    playdeck_server,
    postgres_database,
)  # benchmarks/server.py
from sqlalchemy import Connection, Engine, Table, insert, text

from playdeck.db import make_engine
from playdeck.ingest.records import test_key
from playdeck.migrations import upgrade
from playdeck.models import Attachment, Attempt, Project, Result, Run, Test
from playdeck.outcomes import Outcome

WARMUP_CALLS = 3
BATCH_ROWS = 50_000
TESTS_PER_FILE = 40
PAGE_ROWS = 500
TARGETS_MS = {
    f"runs list, {PAGE_ROWS}": 40.0,
    f"run tests, {PAGE_ROWS}": 40.0,
    f"test history, {PAGE_ROWS}": 40.0,
    f"project tests, {PAGE_ROWS}": 40.0,
    "runs list": 50.0,
    "run tests": 50.0,
    "test history": 50.0,
    "flaky (30 days)": 300.0,
    "trends (50 runs)": 300.0,
}

_RUNS: Table = Run.__table__  # type: ignore[assignment]
_TESTS: Table = Test.__table__  # type: ignore[assignment]
_RESULTS: Table = Result.__table__  # type: ignore[assignment]
_ATTEMPTS: Table = Attempt.__table__  # type: ignore[assignment]
_ATTACHMENTS: Table = Attachment.__table__  # type: ignore[assignment]
_PROJECTS: Table = Project.__table__  # type: ignore[assignment]

ERROR = (
    "Error: expect(received).toHaveText(expected) failed\n\nLocator: getByRole('heading')\n"
    'Expected string: "Order confirmed"\nReceived string: "Order pending"\nTimeout: 5000ms'
)
STACK = "    at /ci/work/tests/checkout.spec.ts:42:7\n    at async Promise.all (index 0)"


# --- seeding --------------------------------------------------------------------------------


@dataclass(slots=True)
class Behaviour:
    """How one test behaves across runs."""

    kind: str  # stable, flaky, broken, skipped
    duration_ms: int
    broken_from: int = 0  # for "broken": the run range in which it fails
    broken_to: int = 0


def _behaviours(rng: random.Random, tests: int, runs: int) -> list[Behaviour]:
    out = []
    for _ in range(tests):
        roll = rng.random()
        duration = int(rng.lognormvariate(6.5, 1.0))  # median ~650 ms, long tail
        if roll < 0.04:
            out.append(Behaviour("flaky", duration))
        elif roll < 0.06:
            start = rng.randrange(runs)
            out.append(Behaviour("broken", duration, start, start + rng.randrange(5, 60)))
        elif roll < 0.08:
            out.append(Behaviour("skipped", 0))
        else:
            out.append(Behaviour("stable", duration))
    return out


def _outcome(rng: random.Random, b: Behaviour, run: int) -> str:
    roll = rng.random()
    if b.kind == "skipped":
        return "skipped"
    if b.kind == "flaky":
        return "flaky" if roll < 0.2 else "failed" if roll < 0.25 else "passed"
    if b.kind == "broken" and b.broken_from <= run < b.broken_to:
        return "timedout" if roll < 0.1 else "failed"
    return "failed" if roll < 0.001 else "passed"


def _copy_value(value: Any) -> Any:
    return orjson.dumps(value).decode() if isinstance(value, (list, dict)) else value


def _bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """executemany in big batches on SQLite; COPY on PostgreSQL (executemany is ~10x slower)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        columns = list(rows[0])
        names = ", ".join(f'"{c}"' for c in columns)
        driver: Any = conn.connection.dbapi_connection
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row([_copy_value(row[c]) for c in columns])
        return
    for start in range(0, len(rows), BATCH_ROWS):
        conn.execute(insert(table), rows[start : start + BATCH_ROWS])


def _insert(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        _bulk_insert(conn, table, rows)


def seed(
    engine: Engine, *, runs: int, tests: int, span_days: float, random_seed: int
) -> dict[str, int]:
    """Bulk-insert the history; ids are assigned here so child rows need no RETURNING."""
    rng = random.Random(random_seed)
    now = datetime.now(UTC)
    first = now - timedelta(days=span_days)
    step = timedelta(days=span_days) / max(runs, 1)
    behaviours = _behaviours(rng, tests, runs)

    _insert(engine, _PROJECTS, [{"id": 1, "name": "bench", "slug": "bench", "created_at": first}])
    test_rows = []
    for i in range(tests):
        file = f"tests/area-{i // TESTS_PER_FILE:03d}.spec.ts"
        title_path = [f"Area {i // TESTS_PER_FILE}", f"does thing {i}"]
        test_rows.append(
            {
                "id": i + 1,
                "project_id": 1,
                "key": test_key(file, title_path, "chromium"),
                "file": file,
                "title_path": title_path,
                "title": title_path[-1],
                "full_title": " › ".join(title_path),
                "browser_project": "chromium",
                "created_at": first,
            }
        )
    _insert(engine, _TESTS, test_rows)

    result_id = attempt_id = attachment_id = 0
    totals: Counter[str] = Counter()
    pending: dict[str, list[dict[str, Any]]] = {"runs": [], "res": [], "att": [], "files": []}

    def flush() -> None:
        with engine.begin() as conn:
            for table, key in (
                (_RUNS, "runs"),
                (_RESULTS, "res"),
                (_ATTEMPTS, "att"),
                (_ATTACHMENTS, "files"),
            ):
                _bulk_insert(conn, table, pending[key])
                pending[key].clear()

    for r in range(runs):
        run_id = r + 1
        started = first + step * r
        branch = "main" if r % 4 else f"feature/{r}"
        counts: Counter[str] = Counter()
        for t, behaviour in enumerate(behaviours):
            outcome = _outcome(rng, behaviour, r)
            counts[outcome] += 1
            result_id += 1
            duration = (
                0 if outcome == "skipped" else int(behaviour.duration_ms * rng.uniform(0.7, 1.5))
            )
            failing = outcome in ("failed", "timedout")
            statuses = {
                "flaky": ["failed", "passed"],
                "failed": ["failed", "failed"],
                "timedout": ["timedout", "timedout"],
            }.get(outcome, [outcome])
            pending["res"].append(
                {
                    "id": result_id,
                    "run_id": run_id,
                    "test_id": t + 1,
                    "project_id": 1,
                    "run_started_at": started,
                    "run_branch": branch,
                    "outcome": outcome,
                    "rank": Outcome(outcome).rank,
                    "expected_status": "passed",
                    "duration_ms": duration,
                    "retry_count": len(statuses) - 1,
                    "error_message": ERROR if failing else None,
                    "error_stack": STACK if failing else None,
                    "location": f"{test_rows[t]['file']}:{10 + t % TESTS_PER_FILE * 12}:5",
                    "tags": [],
                    "annotations": [],
                }
            )
            for retry, status in enumerate(statuses):
                attempt_id += 1
                failed_attempt = status in ("failed", "timedout")
                pending["att"].append(
                    {
                        "id": attempt_id,
                        "result_id": result_id,
                        "retry": retry,
                        "status": status,
                        "duration_ms": duration,
                        "started_at": started,
                        "error_message": ERROR if failed_attempt else None,
                        "error_stack": STACK if failed_attempt else None,
                        "stdout": None,
                        "stderr": None,
                        "steps": [],
                        "extra": {},
                    }
                )
                if failed_attempt:
                    attachment_id += 1
                    pending["files"].append(
                        {
                            "id": attachment_id,
                            "attempt_id": attempt_id,
                            "run_id": run_id,
                            "name": "screenshot",
                            "content_type": "image/png",
                            "size": 20_000,
                            "sha256": f"{attachment_id:064x}",
                            "created_at": started,
                        }
                    )
        total_ms = sum(b.duration_ms for b in behaviours)
        failed_any = counts["failed"] + counts["timedout"] + counts["interrupted"]
        pending["runs"].append(
            {
                "id": run_id,
                "project_id": 1,
                "name": f"CI #{run_id}",
                "started_at": started,
                "duration_ms": total_ms // 4,
                "status": "failed" if failed_any else "passed",
                "total": tests,
                **{o.value: counts[o] for o in Outcome},
                "branch": branch,
                "commit_sha": f"{rng.getrandbits(160):040x}",
                "commit_message": f"Change {run_id}",
                "author": "bench",
                "ci_provider": "github",
                "ci_build_number": str(run_id),
                "ci_build_url": f"https://ci.example/builds/{run_id}",
                "environment": "ci",
                "tags": [],
                "metadata": {},
                "source_format": "playwright",
                "created_at": started,
            }
        )
        totals.update(counts)
        if len(pending["res"]) >= BATCH_ROWS * 2 or r == runs - 1:
            flush()
            print(f"\r  seeded {r + 1}/{runs} runs, {result_id:,} results", end="", flush=True)
    print()

    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("projects", "tests", "runs", "results", "attempts", "attachments"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
        # What autovacuum does soon after a bulk load: statistics and the visibility map (without
        # it, PostgreSQL cannot use index-only scans and visits the heap for every row).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return {
        "results": result_id,
        "attempts": attempt_id,
        "attachments": attachment_id,
        **{f"outcome {k}": v for k, v in sorted(totals.items())},
    }


# --- measuring ------------------------------------------------------------------------------


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class Timing:
    name: str
    ms: list[float]  # wall time per call, as the client saw it
    server_cpu_ms: float  # the server process's CPU time per call (mean)
    body_bytes: int


def measure(
    server: Server, *, runs: int, tests: int, calls: int, seed: int, only: list[str] | None = None
) -> list[Timing]:
    """Milliseconds per call for each endpoint (those named in ``only``, else all), the
    server's CPU per call, the body size."""
    rng = random.Random(seed)
    # Recent runs and tests a user would open; each call picks another one.
    run_ids = [runs - i for i in range(min(runs, 100))]
    test_ids = [rng.randrange(1, tests + 1) for _ in range(calls + WARMUP_CALLS)]
    page = f"limit={PAGE_ROWS}"
    cases: list[tuple[str, Any]] = [
        ("runs list", lambda i: "/api/test-runs"),
        ("run tests", lambda i: f"/api/test-runs/{run_ids[i % len(run_ids)]}/tests"),
        ("test history", lambda i: f"/api/tests/{test_ids[i]}/history"),
        ("project tests", lambda i: "/api/projects/bench/tests"),
        ("flaky (30 days)", lambda i: "/api/projects/bench/flaky?days=30"),
        ("trends (50 runs)", lambda i: "/api/projects/bench/trends?runs=50"),
        (f"runs list, {PAGE_ROWS}", lambda i: f"/api/test-runs?{page}"),
        (
            f"run tests, {PAGE_ROWS}",
            lambda i: f"/api/test-runs/{run_ids[i % len(run_ids)]}/tests?{page}",
        ),
        (f"test history, {PAGE_ROWS}", lambda i: f"/api/tests/{test_ids[i]}/history?{page}"),
        (f"project tests, {PAGE_ROWS}", lambda i: f"/api/projects/bench/tests?{page}"),
    ]
    if only:
        cases = [(name, path) for name, path in cases if name in only]
    out = []
    with httpx.Client(base_url=server.url, timeout=120) as client:
        for name, path in cases:
            timings = []
            size = 0
            cpu = 0.0
            for i in range(WARMUP_CALLS + calls):
                if i == WARMUP_CALLS:
                    cpu = server.cpu_seconds()
                start = time.perf_counter()
                response = client.get(path(i))
                elapsed = (time.perf_counter() - start) * 1000
                if response.status_code != 200:
                    raise SystemExit(f"{name}: HTTP {response.status_code}: {response.text[:500]}")
                if i >= WARMUP_CALLS:
                    timings.append(elapsed)
                    size = len(response.content)
            cpu = (server.cpu_seconds() - cpu) * 1000 / calls
            out.append(Timing(name, timings, cpu, size))
    return out


def report(results: list[Timing]) -> None:
    print(
        f"\n{'endpoint':<20} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu ms':>8} "
        f"{'target':>8}  body"
    )
    for timing in results:
        p50 = statistics.median(timing.ms)
        p95 = _percentile(timing.ms, 0.95)
        target = TARGETS_MS.get(timing.name)
        verdict = "" if target is None else ("ok" if p95 < target else "MISSED")
        target_text = f"<{target:.0f}" if target is not None else "-"
        print(
            f"{timing.name:<20} {p50:8.1f} {p95:8.1f} {max(timing.ms):8.1f} "
            f"{timing.server_cpu_ms:8.1f} {target_text:>8}  "
            f"{timing.body_bytes / 1024:7.1f} KiB  {verdict}"
        )
    print(
        "p50/p95/max: wall time per request seen by the client (loopback HTTP, JSON included);"
        "\ncpu: the server process's CPU time per request (mean; user + system)."
    )


def run(database_url: str, data_dir: Path, args: argparse.Namespace, *, reuse: bool) -> None:
    if reuse:
        print(f"reusing the history seeded in {database_url}")
    else:
        engine = make_engine(database_url)
        upgrade(engine)
        print(f"seeding {args.runs} runs x {args.tests} tests over {args.span_days} days ...")
        start = time.perf_counter()
        counts = seed(
            engine,
            runs=args.runs,
            tests=args.tests,
            span_days=args.span_days,
            random_seed=args.seed,
        )
        seconds = time.perf_counter() - start
        engine.dispose()
        print(f"seeded in {seconds:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    with playdeck_server(database_url, data_dir, port=args.port) as server:
        before = load_average()
        results = measure(
            server,
            runs=args.runs,
            tests=args.tests,
            calls=args.calls,
            seed=args.seed,
            only=args.only,
        )
    print(f"\nmachine: {machine(database_url)}")
    print(f"before measuring: {before}; after: {load_average()}")
    print(f"{args.calls} calls per endpoint after {WARMUP_CALLS} warm-up calls, one client")
    report(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--span-days", type=float, default=90.0, help="History covered by runs.")
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument(
        "--only",
        action="append",
        metavar="ENDPOINT",
        help='measure only this endpoint (its printed name, e.g. "project tests, 500"); repeatable',
    )
    parser.add_argument(
        "--sqlite-file",
        help="seed this SQLite file if it does not exist, else measure its history again "
        "(same --runs/--tests/--seed; for before/after comparisons)",
    )
    parser.add_argument(
        "--database-url",
        help="A PostgreSQL server URL (a throwaway database is created on it); default SQLite.",
    )
    args = parser.parse_args()
    # Stopped with SIGTERM: unwind, so the server stops and the throwaway database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="playdeck-bench-") as tmp:
        data_dir = Path(tmp)
        if args.database_url and not args.database_url.startswith("sqlite"):
            with postgres_database(args.database_url) as url:
                run(url, data_dir, args, reuse=False)
        elif args.sqlite_file:
            path = Path(args.sqlite_file)
            run(f"sqlite:///{path.resolve()}", data_dir, args, reuse=path.exists())
        else:
            run(f"sqlite:///{data_dir / 'bench.db'}", data_dir, args, reuse=False)


if __name__ == "__main__":
    main()
