"""Sign-ins while CI clients ingest: login and refresh latency beside concurrent large ingests.

Starts ``playdeck serve`` (authentication on, one administrator) on a fresh database, then for
``--seconds``: ``--clients`` threads each send ``--tests``-test Playwright JSON reports back to
back (``POST /api/test-runs/submit``, bearer token), while one thread signs in and one
refreshes a token in a loop. Prints latency percentiles of each kind and every non-2xx answer
(a "database is locked" would show here as a 503 ``database_busy``).

    python benchmarks/contention.py                    # SQLite, 4 clients x 5,000 tests
    python benchmarks/contention.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
from server import machine, playdeck_server, postgres_database  # benchmarks/server.py

from ingest import generate_report  # benchmarks/ingest.py

ADMIN = {"username": "bench", "password": "saffron comet abacus 9127"}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _line(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<8} (none)"
    ms = [v * 1000 for v in values]
    return (
        f"{name:<8} n={len(ms):<5} p50={statistics.median(ms):7.0f} ms  "
        f"p95={_percentile(ms, 0.95):7.0f} ms  p99={_percentile(ms, 0.99):7.0f} ms  "
        f"max={max(ms):7.0f} ms"
    )


@contextlib.contextmanager
def _database(postgres: str | None, scratch: Path) -> Iterator[str]:
    if postgres:
        with postgres_database(postgres) as url:
            yield url
    else:
        yield f"sqlite:///{scratch / 'playdeck.db'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=4, help="concurrent ingesting clients")
    parser.add_argument("--tests", type=int, default=5000, help="tests per report")
    parser.add_argument("--seconds", type=float, default=60, help="how long the load runs")
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite)")
    args = parser.parse_args()

    body = orjson.dumps(generate_report(args.tests, seed=7))
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        with _database(args.postgres, scratch) as database_url:
            env = {
                "PLAYDECK_REQUIRE_AUTH": "true",
                "PLAYDECK_SECRET_KEY": "contention-benchmark-secret-0123456789abcdef",
                "PLAYDECK_ADMIN_USERNAME": ADMIN["username"],
                "PLAYDECK_ADMIN_PASSWORD": ADMIN["password"],
                "PLAYDECK_LOGIN_RATE_LIMIT": "100000/minute",
                "PLAYDECK_LOGIN_ACCOUNT_RATE_LIMIT": "100000/minute",
                "PLAYDECK_SENSITIVE_RATE_LIMIT": "100000/minute",
            }
            with playdeck_server(database_url, scratch / "data", env=env) as server:
                print(machine(database_url))
                print(
                    f"{args.clients} clients x {args.tests}-test reports "
                    f"({len(body) / 1e6:.1f} MB) for {args.seconds:.0f} s, logins and refreshes"
                )
                run(server.url, body, args)


def run(base: str, body: bytes, args: argparse.Namespace) -> None:
    http = httpx.Client(base_url=base, timeout=120, limits=httpx.Limits(max_connections=32))
    signed_in = http.post("/api/auth/login", json=ADMIN).json()
    bearer = {"Authorization": f"Bearer {signed_in['access_token']}"}
    refresh_token = signed_in["refresh_token"]
    stop = time.monotonic() + args.seconds
    timings: dict[str, list[float]] = {"ingest": [], "login": [], "refresh": []}
    failures: Counter[str] = Counter()
    lock = threading.Lock()

    def record(kind: str, started: float, response: httpx.Response) -> None:
        with lock:
            timings[kind].append(time.monotonic() - started)
            if not response.is_success:
                failures[f"{kind} {response.status_code} {response.text[:120]}"] += 1

    def ingest(i: int) -> None:
        while time.monotonic() < stop:
            started = time.monotonic()
            response = http.post(
                f"/api/test-runs/submit?projectName=contention-{i}",
                content=body,
                headers={**bearer, "Content-Type": "application/json"},
            )
            record("ingest", started, response)

    def login() -> None:
        while time.monotonic() < stop:
            started = time.monotonic()
            record("login", started, http.post("/api/auth/login", json=ADMIN))
            time.sleep(0.2)

    def refresh() -> None:
        nonlocal refresh_token
        while time.monotonic() < stop:
            started = time.monotonic()
            response = http.post("/api/auth/refresh", json={"refresh_token": refresh_token})
            record("refresh", started, response)
            if response.is_success:
                refresh_token = response.json()["refresh_token"]
            time.sleep(0.2)

    threads = [threading.Thread(target=ingest, args=(i,)) for i in range(args.clients)]
    threads += [threading.Thread(target=login), threading.Thread(target=refresh)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    http.close()
    for kind, values in timings.items():
        print(_line(kind, values))
    print(f"non-2xx answers: {sum(failures.values())}")
    for what, count in failures.most_common():
        print(f"  {count} x {what}")


if __name__ == "__main__":
    main()
