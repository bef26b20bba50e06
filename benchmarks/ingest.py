"""Ingest throughput: a Playwright JSON report of N tests, sent to a real Playdeck server.

Generates a realistic report (5 % failed with ANSI-coloured errors and stacks on two attempts,
3 % flaky with a retry, 2 % skipped, small inline base64 screenshots on failed attempts, some
captured stdout), starts ``playdeck serve`` in a subprocess on a free loopback port, and sends
the report ``--repeat`` times. Each repetition is a new run of the same suite (same test
identities, new attachment bytes), so the first one also creates the test identities.

Prints tests/s end to end: from the request being sent to the ``201`` being received, which the
server sends after the transaction committed, with the server process's CPU time for the request
beside it. Then measures the physical floor for the same report (``orjson.loads`` of the body, a
raw ``executemany`` of the same result, attempt and attachment rows into a fresh SQLite database in
one transaction, and writing the attachment files) and prints how far the median is from it.

    python benchmarks/ingest.py                                   # SQLite in a temp dir
    python benchmarks/ingest.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python benchmarks/ingest.py --endpoint both --tests 20000 --repeat 3
    python benchmarks/ingest.py --profile                         # where the server's time goes
    python benchmarks/ingest.py --port 8765                       # a fixed server port
    python benchmarks/ingest.py --instructions                    # the ratio in instructions

``--instructions`` starts no server: it counts, under valgrind's callgrind, the instructions of
an in-process ingest (the first, then the steady state) and of the floor of the same report:
a ratio that does not move with the load.

Targets (issue "performance"): >= 40,000 tests/s median on SQLite for 10,000 tests, which is
<= 1.3x the floor measured in the same run; PostgreSQL within 1.5x of SQLite. Figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import cProfile
import ctypes
import functools
import gc
import os
import pickle
import pstats
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from server import (  # benchmarks/server.py
    Server,
    load_average,
    machine,
    playdeck_server,
    postgres_database,
)

from playdeck.auth.principal import Principal
from playdeck.cli.multipart import FilePart, MultipartBody
from playdeck.db import make_engine, make_sessionmaker
from playdeck.ingest import bulk, service, use_cases
from playdeck.ingest.parsers import playwright_json
from playdeck.migrations import upgrade
from playdeck.settings import Settings
from playdeck.storage.filesystem import FilesystemBlobStore

PROJECTS = ("chromium", "firefox")
FAILED_SHARE = 0.05
FLAKY_SHARE = 0.03
SKIPPED_SHARE = 0.02
STDOUT_SHARE = 0.10
TESTS_PER_FILE = 40
FLOOR_REPEAT = 3
TARGET_TESTS_PER_SECOND = 40_000
TARGET_FLOOR_RATIO = 1.3

_ANSI_ERRORS = (
    (
        "Error: \x1b[2mexpect(\x1b[22m\x1b[31mreceived\x1b[39m\x1b[2m).\x1b[22mtoHaveText"
        "\x1b[2m(\x1b[22m\x1b[32mexpected\x1b[39m\x1b[2m)\x1b[22m failed\n\n"
        "Locator: getByRole('heading')\nExpected string: \x1b[32m\"Order #{n} confirmed\"\x1b[39m\n"
        'Received string: \x1b[31m"Order #{n} pending"\x1b[39m\nTimeout: 5000ms'
    ),
    (
        "TimeoutError: locator.click: Timeout 10000ms exceeded.\nCall log:\n"
        "\x1b[2m  - waiting for getByTestId('submit-{n}')\x1b[22m\n"
        "\x1b[2m    - locator resolved to <button disabled>Submit</button>\x1b[22m"
    ),
    (
        "Error: \x1b[2mexpect(\x1b[22m\x1b[31mreceived\x1b[39m\x1b[2m).\x1b[22mtoBe"
        "\x1b[2m(\x1b[22m\x1b[32mexpected\x1b[39m\x1b[2m) // Object.is equality\x1b[22m\n\n"
        "Expected: \x1b[32m{n}\x1b[39m\nReceived: \x1b[31m{m}\x1b[39m"
    ),
)


# --- the report ---------------------------------------------------------------------------


def _location(file: str, line: int, column: int = 5) -> dict[str, Any]:
    return {"file": f"/ci/work/tests/{file}", "line": line, "column": column}


def _error(rng: random.Random, file: str, line: int) -> dict[str, Any]:
    message = rng.choice(_ANSI_ERRORS).format(n=rng.randint(1, 9999), m=rng.randint(1, 9999))
    frames = "\n".join(
        f"    at {name} (/ci/work/tests/{file}:{line + depth}:{5 + depth})"
        for depth, name in enumerate(("Proxy.<anonymous>", "fixtures.page", "runTest", "async"))
    )
    snippet = (
        f"\x1b[90m {line - 1} |\x1b[39m   \x1b[36mawait\x1b[39m page\x1b[33m.\x1b[39mgoto(url)\n"
        f"\x1b[31m\x1b[1m>\x1b[22m\x1b[39m\x1b[90m {line} |\x1b[39m   \x1b[36mawait\x1b[39m "
        f"expect(page)\x1b[33m.\x1b[39mtoHaveTitle(\x1b[32m'Checkout'\x1b[39m)\x1b[33m;\x1b[39m"
    )
    location = _location(file, line)
    return {
        "message": message,
        "stack": f"{message}\n{frames}",
        "location": location,
        "snippet": snippet,
    }


def _screenshot(rng: random.Random) -> dict[str, Any]:
    size = rng.randint(1024, 4096)
    png = b"\x89PNG\r\n\x1a\n" + rng.randbytes(size)
    return {
        "name": "screenshot",
        "contentType": "image/png",
        "body": base64.b64encode(png).decode(),
    }


def _attempt(
    rng: random.Random,
    *,
    retry: int,
    status: str,
    started: datetime,
    file: str,
    line: int,
    attachments: bool,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "workerIndex": rng.randint(0, 3),
        "parallelIndex": rng.randint(0, 3),
        "status": status,
        "duration": rng.randint(50, 4000) if status != "skipped" else 0,
        "errors": [],
        "stdout": [],
        "stderr": [],
        "retry": retry,
        "startTime": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "annotations": [],
        "attachments": [],
    }
    if status == "failed":
        error = _error(rng, file, line)
        result["error"] = error
        result["errors"] = [{"message": error["stack"], "location": error["location"]}]
        result["errorLocation"] = error["location"]
        result["attachments"] = [_screenshot(rng)] if attachments else []
    if status != "skipped" and rng.random() < STDOUT_SHARE:
        result["stdout"] = [{"text": f"navigated to /orders/{rng.randint(1, 10**6)}\n"}]
    return result


def _test(
    rng: random.Random,
    *,
    project: str,
    outcome: str,
    started: datetime,
    file: str,
    line: int,
    attachments: bool,
) -> dict[str, Any]:
    statuses = {
        "passed": ["passed"],
        "failed": ["failed", "failed"],
        "flaky": ["failed", "passed"],
        "skipped": ["skipped"],
    }[outcome]
    results = [
        _attempt(
            rng,
            retry=retry,
            status=status,
            started=started + timedelta(seconds=retry * 5),
            file=file,
            line=line,
            attachments=attachments,
        )
        for retry, status in enumerate(statuses)
    ]
    return {
        "timeout": 30000,
        "annotations": [{"type": "skip"}] if outcome == "skipped" else [],
        "expectedStatus": "skipped" if outcome == "skipped" else "passed",
        "projectId": project,
        "projectName": project,
        "results": results,
        "status": {
            "passed": "expected",
            "failed": "unexpected",
            "flaky": "flaky",
            "skipped": "skipped",
        }[outcome],
    }


def generate_report(tests: int, *, seed: int, attachments: bool = True) -> dict[str, Any]:
    """A ``--reporter=json`` report of ``tests`` tests (specs x browser projects)."""
    rng = random.Random(seed)
    # Outcomes are fixed per test identity (seed 0) so every repetition is the same suite;
    # the attempt details and attachment bytes vary with ``seed``.
    plan = random.Random(0)
    started = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=seed)
    specs = (tests + len(PROJECTS) - 1) // len(PROJECTS)
    suites: list[dict[str, Any]] = []
    counts: dict[str, int] = defaultdict(int)
    made = 0
    for file_index in range(0, specs, TESTS_PER_FILE):
        file = f"area-{file_index // TESTS_PER_FILE:04d}/checkout.spec.ts"
        describes: list[dict[str, Any]] = []
        for block in range(4):
            specs_out: list[dict[str, Any]] = []
            for n in range(file_index + block * 10, min(file_index + block * 10 + 10, specs)):
                line = 10 + (n % TESTS_PER_FILE) * 12
                spec_tests = []
                for project in PROJECTS:
                    if made == tests:
                        break
                    roll = plan.random()
                    outcome = (
                        "failed"
                        if roll < FAILED_SHARE
                        else "flaky"
                        if roll < FAILED_SHARE + FLAKY_SHARE
                        else "skipped"
                        if roll < FAILED_SHARE + FLAKY_SHARE + SKIPPED_SHARE
                        else "passed"
                    )
                    counts[outcome] += 1
                    made += 1
                    spec_tests.append(
                        _test(
                            rng,
                            project=project,
                            outcome=outcome,
                            started=started,
                            file=file,
                            line=line,
                            attachments=attachments,
                        )
                    )
                specs_out.append(
                    {
                        "title": f"order {n} can be paid @smoke" if n % 7 == 0 else f"order {n}",
                        "ok": all(t["status"] in ("expected", "flaky") for t in spec_tests),
                        "tags": ["smoke"] if n % 7 == 0 else [],
                        "tests": spec_tests,
                        "id": f"{file_index:04x}-{n:08x}",
                        "file": file,
                        "line": line,
                        "column": 5,
                    }
                )
            if specs_out:
                describes.append(
                    {
                        "title": f"Checkout step {block}",
                        "file": file,
                        "line": block * 120 + 3,
                        "column": 1,
                        "specs": specs_out,
                    }
                )
        suites.append(
            {"title": file, "file": file, "line": 0, "column": 0, "specs": [], "suites": describes}
        )
    return {
        "config": {
            "rootDir": "/ci/work/tests",
            "version": "1.50.0",
            "workers": 4,
            "projects": [{"id": p, "name": p, "retries": 1} for p in PROJECTS],
        },
        "suites": suites,
        "errors": [],
        "stats": {
            "startTime": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "duration": 600_000.0,
            "expected": counts["passed"],
            "unexpected": counts["failed"],
            "flaky": counts["flaky"],
            "skipped": counts["skipped"],
        },
    }


# --- measuring over HTTP -------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    seconds: float  # wall time, request sent to 201 received
    server_cpu: float  # CPU time the server process spent meanwhile
    body_bytes: int


def _send_submit(client: httpx.Client, base: str, body: bytes) -> httpx.Response:
    return client.post(
        f"{base}/api/test-runs/submit",
        params={"projectName": "bench"},
        content=body,
        headers={"Content-Type": "application/json"},
    )


def _send_upload(client: httpx.Client, base: str, body: bytes, scratch: Path) -> httpx.Response:
    path = scratch / "report.json"
    path.write_bytes(body)
    multipart = MultipartBody([("projectName", "bench")], [FilePart.for_path(path)])
    return client.post(
        f"{base}/api/test-runs/upload",
        content=multipart.chunks(),
        headers={"Content-Type": multipart.content_type, "Content-Length": str(multipart.length)},
    )


def send(
    client: httpx.Client, server: Server, endpoint: str, body: bytes, scratch: Path
) -> Request:
    """One report over HTTP; the server's CPU time is read before and after the request."""
    cpu = server.cpu_seconds()
    start = time.perf_counter()
    if endpoint == "submit":
        response = _send_submit(client, server.url, body)
    else:
        response = _send_upload(client, server.url, body, scratch)
    elapsed = time.perf_counter() - start
    if response.status_code != 201:
        raise SystemExit(f"{endpoint}: HTTP {response.status_code}: {response.text[:500]}")
    return Request(elapsed, server.cpu_seconds() - cpu, len(body))


def measure(
    server: Server,
    *,
    tests: int,
    repeat: int,
    endpoint: str,
    scratch: Path,
    first: bool,
    attachments: bool,
) -> list[Request]:
    """One request per repetition; each report is built before its clock starts."""
    timings: list[Request] = []
    with httpx.Client(timeout=3600) as client:
        for rep in range(repeat):
            body = orjson.dumps(generate_report(tests, seed=rep + 1, attachments=attachments))
            timing = send(client, server, endpoint, body, scratch)
            timings.append(timing)
            print(
                f"  {endpoint} #{rep + 1}: {timing.seconds * 1000:8.1f} ms  "
                f"{tests / timing.seconds:10,.0f} tests/s  "
                f"server CPU {timing.server_cpu * 1000:7.0f} ms  "
                f"({timing.body_bytes / 1e6:.1f} MB body)"
                + ("  [creates the test identities]" if first and rep == 0 else "")
            )
    return timings


# --- ingest in process (profile and floor) --------------------------------------------------


@dataclass
class InProcess:
    """Playdeck's own ingest code on a database, without HTTP."""

    settings: Settings
    factory: Any
    store: FilesystemBlobStore

    def ingest(self, body: bytes, project: str) -> float:
        """``submit_json`` then commit, as the endpoint does; returns the seconds taken."""
        start = time.perf_counter()
        with self.factory() as session:
            use_cases.submit_json(
                session,
                use_cases.Ingestion(self.store, self.settings, Principal.builtin_admin()),
                body=body,
                project_name=project,
            )
            session.commit()
        return time.perf_counter() - start


@contextlib.contextmanager
def in_process(database_url: str, data_dir: Path) -> Iterator[InProcess]:
    settings = Settings(database_url=database_url, data_dir=data_dir)
    engine = make_engine(database_url)
    upgrade(engine)
    try:
        yield InProcess(
            settings, make_sessionmaker(engine), FilesystemBlobStore(settings.files_dir)
        )
    finally:
        engine.dispose()


# --- the physical floor ---------------------------------------------------------------------

_FLOOR_TABLES = ("results", "attempts", "attachments")


@dataclass
class FloorInput:
    """What a leanest possible ingest of one report must still do, prepared ahead of timing."""

    template: Path  # a migrated SQLite file with the project, its tests and the run row
    rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]]  # table: columns, rows
    files: list[tuple[str, bytes]]  # (sha256, bytes) of each attachment stored


def _sqlite_rows(
    conn: sqlite3.Connection, table: str, where: str, args: tuple[Any, ...]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = conn.execute(f"SELECT * FROM {table} WHERE {where}", args)
    columns = [d[0] for d in cursor.description]
    return columns, cursor.fetchall()


def prepare_floor(body: bytes, scratch: Path) -> FloorInput:
    """Store ``body`` once with Playdeck (untimed) to get exactly the rows and files it makes.

    The report is stored twice: the floor models the steady state, where the test identities
    exist already; the second run's rows are the ones the floor writes.
    """
    work = scratch / "floor"
    work.mkdir(exist_ok=True)
    source = work / "source.db"
    with in_process(f"sqlite:///{source}", work / "source-data") as playdeck:
        playdeck.ingest(body, "bench")
        playdeck.ingest(body, "bench")
    template = work / "template.db"
    with in_process(f"sqlite:///{template}", work / "template-data"):
        pass
    with contextlib.closing(sqlite3.connect(source)) as conn:
        run_id = conn.execute("SELECT max(id) FROM runs").fetchone()[0]
        setup = {
            "projects": _sqlite_rows(conn, "projects", "1 = 1", ()),
            "tests": _sqlite_rows(conn, "tests", "1 = 1", ()),
            "runs": _sqlite_rows(conn, "runs", "id = ?", (run_id,)),
        }
        rows = {
            "results": _sqlite_rows(conn, "results", "run_id = ?", (run_id,)),
            "attempts": _sqlite_rows(
                conn,
                "attempts",
                "result_id IN (SELECT id FROM results WHERE run_id = ?)",
                (run_id,),
            ),
            "attachments": _sqlite_rows(conn, "attachments", "run_id = ?", (run_id,)),
        }
    with contextlib.closing(sqlite3.connect(template)) as conn, conn:
        for table, (columns, values) in setup.items():
            marks = ", ".join("?" * len(columns))
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                values,
            )
    shas = sorted({row[rows["attachments"][0].index("sha256")] for row in rows["attachments"][1]})
    files_root = work / "source-data" / "files"
    files = [(sha, (files_root / sha[:2] / sha[2:4] / sha).read_bytes()) for sha in shas]
    return FloorInput(template, rows, files)


def open_floor_target(floor: FloorInput, scratch: Path) -> tuple[sqlite3.Connection, Path]:
    """A fresh copy of the template database (Playdeck's pragmas) and an empty file store."""
    database = scratch / "floor" / "target.db"
    files = scratch / "floor" / "target-files"
    shutil.rmtree(files, ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(floor.template, database)
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn, files


def write_floor(body: bytes, floor: FloorInput, conn: sqlite3.Connection, files: Path) -> None:
    """The floor's work: ``orjson.loads(body)``; the rows in one transaction (``executemany``);
    each attachment file written once."""
    orjson.loads(body)
    conn.execute("BEGIN IMMEDIATE")
    for table in _FLOOR_TABLES:
        columns, rows = floor.rows[table]
        marks = ", ".join("?" * len(columns))
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
            rows,
        )
    conn.execute("COMMIT")
    made: set[str] = set()
    for sha, data in floor.files:
        directory = os.path.join(files, sha[:2], sha[2:4])
        if directory not in made:
            os.makedirs(directory, exist_ok=True)
            made.add(directory)
        with open(os.path.join(directory, sha), "wb") as handle:
            handle.write(data)


def measure_floor(body: bytes, floor: FloorInput, scratch: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``write_floor`` into a fresh target."""
    conn, files = open_floor_target(floor, scratch)
    start, cpu = time.perf_counter(), time.process_time()
    write_floor(body, floor, conn, files)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    conn.close()
    return elapsed, cpu


# --- profiling (in process, same code path as the endpoint minus HTTP) ----------------------


def profile_ingest(
    database_url: str, data_dir: Path, *, tests: int, top: int, attachments: bool
) -> None:
    """Run ``submit_json`` + commit in this process, timing each phase and profiling it."""
    phases: dict[str, float] = defaultdict(float)
    gc_time = [0.0, 0.0]  # total, start of the collection in progress

    def on_gc(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            gc_time[1] = time.perf_counter()
        else:
            gc_time[0] += time.perf_counter() - gc_time[1]

    def timed(name: str | Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            label = name(*args, **kwargs) if callable(name) else name
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[label] += time.perf_counter() - start

        return wrapper

    # The phases are the ingest code's own functions, wrapped for the duration of the profile.
    # A function that has been renamed or moved is reported and left out, not a crash.
    instrumented: list[tuple[object, str, str | Callable[..., str]]] = [
        (use_cases, "top_level_keys", "JSON head (top-level keys)"),
        (playwright_json, "parse_playwright_json", "Playwright parser (msgspec)"),
        (service, "_upsert_tests", "test upsert"),
        (bulk.BulkWriter, "insert", lambda _self, table, _c, _r: f"{table.name} insert"),
        (service, "stage_files", "attachment files"),
    ]
    originals = []
    for owner, name, label in instrumented:
        original = getattr(owner, name, None)
        if original is None:
            print(f"(profile: {getattr(owner, '__name__', owner)}.{name} not found; not timed)")
            continue
        originals.append((owner, name, original))
        setattr(owner, name, timed(label, original))
    gc.callbacks.append(on_gc)
    try:
        with in_process(database_url, data_dir) as playdeck:
            for label, seed in (("first run (creates test identities)", 1), ("next run", 2)):
                body = orjson.dumps(generate_report(tests, seed=seed, attachments=attachments))
                phases.clear()
                gc_time[0] = 0.0
                total = playdeck.ingest(body, "bench-profile")
                print(f"\nIn-process ingest, {label}: {total * 1000:.1f} ms")
                rows = sorted(phases.items(), key=lambda kv: -kv[1])
                rows.append(("other (run row, commit, ...)", total - sum(phases.values())))
                rows.append(("of all this, cyclic GC", gc_time[0]))
                for name, seconds in rows:
                    print(f"  {name:28s} {seconds * 1000:8.1f} ms  {seconds / total:6.1%}")
            body = orjson.dumps(generate_report(tests, seed=3, attachments=attachments))
            profiler = cProfile.Profile()
            profiler.enable()
            playdeck.ingest(body, "bench-profile")
            profiler.disable()
    finally:
        gc.callbacks.remove(on_gc)
        for owner, name, original in originals:
            setattr(owner, name, original)
    print("\ncProfile of one more run (the profiler slows Python code more than C code):")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


# --- instruction counts (callgrind) ----------------------------------------------------------
#
# Wall and CPU time on this VM swing up to 3x within minutes, so the ratio to the floor is also
# counted in user-space instructions, which do not depend on the load. Callgrind rather than
# cachegrind or lackey: all three count the same instructions, but only callgrind can count
# inside one named function (``--toggle-collect``) and write one count per call of it
# (``--dump-after``); cachegrind is started and stopped only by client requests from C, and
# lackey is several times slower still. A Python function is not a C function callgrind can
# name, so the measured call goes through one: calling a ctypes function pointer made from a
# Python callable runs it inside libffi's ``ffi_call``, which neither Playdeck's ingest nor the
# floor uses. The imports, the migrations and the reading of the inputs are neither counted nor
# instrumented (``--instr-atstart=no`` until ``start_instrumentation``): under instrumentation
# they took minutes, more than the ingest itself. The report is the 10,000 tests by
# default (3-5.5 minutes on 2 loaded cores): at 2,000 (75 s) the ratio is 10 % higher,
# the ingest's fixed cost per report weighing more.

_COUNTED_FUNCTION = "ffi_call"
_CountedCall = ctypes.CFUNCTYPE(None)


def start_instrumentation() -> None:
    """Have callgrind, started with ``--instr-atstart=no``, instrument this process from now on.

    ``callgrind_control`` reaches this process through vgdb, which valgrind answers between basic
    blocks: this process keeps running (polling) until the answer, since a blocked one could only
    be reached by ptrace, which a hardened kernel refuses. The cyclic garbage collector is run
    first, so that every run starts counting from the same collector state."""
    gc.collect()
    control = subprocess.Popen(
        ["callgrind_control", "--instr=on", str(os.getpid())], stdout=subprocess.DEVNULL
    )
    while control.poll() is None:
        pass
    if control.returncode != 0:
        raise SystemExit(f"callgrind_control --instr=on: exit {control.returncode}")


def run_counted(work: Callable[[], object]) -> None:
    """Run ``work`` inside ``ffi_call``: under callgrind, its instructions are one dump."""
    failures: list[BaseException] = []

    def call() -> None:
        try:
            work()
        except BaseException as error:  # an exception leaving a ctypes callback is only printed
            failures.append(error)

    _CountedCall(call)()
    if failures:
        raise failures[0]


def count_playdeck(scratch: Path) -> None:
    """Under callgrind: two in-process ingests on a fresh migrated database, each counted.

    The first creates the test identities (and pays the process's one-time warm-up); the second
    is a new run of the same suite with new attachment bytes, the steady state."""
    bodies = [(scratch / name).read_bytes() for name in ("first.json", "next.json")]
    with in_process(f"sqlite:///{scratch / 'playdeck.db'}", scratch / "playdeck-data") as playdeck:
        start_instrumentation()
        for body in bodies:
            run_counted(functools.partial(playdeck.ingest, body, "bench"))


def count_floor(scratch: Path) -> None:
    """Under callgrind: the floor of the steady-state report, counted."""
    body = (scratch / "next.json").read_bytes()
    floor = FloorInput(*pickle.loads((scratch / "floor.pickle").read_bytes()))
    conn, files = open_floor_target(floor, scratch)
    start_instrumentation()
    run_counted(functools.partial(write_floor, body, floor, conn, files))
    conn.close()


_COUNTERS = {"playdeck": (count_playdeck, 2), "floor": (count_floor, 1)}  # dumps each writes


def _callgrind_total(path: Path) -> int:
    with path.open() as dump:
        for line in dump:
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise SystemExit(f"{path}: no totals line")


def callgrind(counter: str, scratch: Path) -> list[int]:
    """Run ``counter`` in this script under callgrind; the instructions of each counted call."""
    _, dumps = _COUNTERS[counter]
    out = scratch / f"callgrind-{counter}.out"
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        "--collect-atstart=no",
        f"--toggle-collect={_COUNTED_FUNCTION}",
        f"--dump-after={_COUNTED_FUNCTION}",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--count-under-callgrind",
        counter,
        "--scratch",
        str(scratch),
    ]
    # A fixed hash seed: the same sets and dicts in the same order, run after run.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"callgrind {counter}: exit {done.returncode}\n{done.stderr[-3000:]}")
    # One dump per counted call and nothing counted after the last: anything else means
    # ffi_call ran elsewhere too, and the counts would not be the measured calls'.
    extra = Path(f"{out}.{dumps + 1}")
    if extra.exists() or _callgrind_total(out) != 0:
        raise SystemExit(f"callgrind {counter}: {_COUNTED_FUNCTION} was called outside run_counted")
    return [_callgrind_total(Path(f"{out}.{part}")) for part in range(1, dumps + 1)]


def count_instructions(tests: int, scratch: Path, *, attachments: bool) -> None:
    """Playdeck's in-process ingest and the floor of the same report, in instructions."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install -y valgrind)")
    version = subprocess.run(
        ["valgrind", "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    first = orjson.dumps(generate_report(tests, seed=1, attachments=attachments))
    body = orjson.dumps(generate_report(tests, seed=2, attachments=attachments))
    (scratch / "first.json").write_bytes(first)
    (scratch / "next.json").write_bytes(body)
    floor = prepare_floor(body, scratch)
    (scratch / "floor.pickle").write_bytes(pickle.dumps((floor.template, floor.rows, floor.files)))
    rows = sum(len(r) for _, r in floor.rows.values())
    print(
        f"Report: {tests:,} tests, {len(body) / 1e6:.1f} MB, {rows:,} result, attempt and "
        f"attachment rows, {len(floor.files):,} attachment files"
    )
    start = time.perf_counter()
    first_ingest, steady_ingest = callgrind("playdeck", scratch)
    (floor_instructions,) = callgrind("floor", scratch)
    print(
        f"Instructions ({version} --tool=callgrind, user space only, "
        f"{time.perf_counter() - start:.0f} s under valgrind):"
    )
    for label, count in (
        ("Playdeck ingest, first (creates the identities, warms up)", first_ingest),
        ("Playdeck ingest, steady state (identities exist)", steady_ingest),
        ("floor (orjson.loads, one executemany transaction, files)", floor_instructions),
    ):
        print(f"  {label:58s} {count / 1e6:10,.1f} M")
    print(
        f"steady state / floor = {steady_ingest / floor_instructions:.2f}x "
        f"(first / floor = {first_ingest / floor_instructions:.2f}x; "
        f"target <= {TARGET_FLOOR_RATIO}x)"
    )
    print(
        "Not in these counts: system calls (the file writes and directories: kernel time), nor "
        "what an instruction costs (the floor's copies and B-tree work take more cycles each "
        "than the interpreter's), so this is not the wall or CPU ratio but the one that does "
        "not move with the load."
    )


# --- main -----------------------------------------------------------------------------------


def _summary(endpoint: str, tests: int, timings: list[Request]) -> tuple[float, float]:
    seconds = [t.seconds for t in timings]
    cpu = statistics.median(t.server_cpu for t in timings)
    best, median = min(seconds), statistics.median(seconds)
    print(
        f"{endpoint}: min {best * 1000:.0f} ms ({tests / best:,.0f} tests/s), "
        f"median {median * 1000:.0f} ms ({tests / median:,.0f} tests/s), "
        f"server CPU median {cpu * 1000:.0f} ms"
    )
    return median, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=10_000, help="tests per report")
    parser.add_argument("--repeat", type=int, default=5, help="uploads per endpoint")
    parser.add_argument("--endpoint", choices=("submit", "upload", "both"), default="submit")
    parser.add_argument(
        "--no-attachments",
        action="store_true",
        help="no inline screenshots (separates the file store's cost from the database's)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database-url", help="an existing, empty database (default: SQLite)")
    where.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="PostgreSQL server URL; a throwaway database is created and dropped",
    )
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor measurement")
    parser.add_argument(
        "--profile", action="store_true", help="also profile ingest in process, by phase"
    )
    parser.add_argument("--top", type=int, default=25, help="profile lines to print")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="instead: count the instructions of an in-process ingest and of the floor under "
        "callgrind (repeatable whatever the load), and print their ratio",
    )
    # How --instructions runs this script again under valgrind.
    parser.add_argument("--count-under-callgrind", choices=_COUNTERS, help=argparse.SUPPRESS)
    parser.add_argument("--scratch", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    attachments = not args.no_attachments

    if args.count_under_callgrind:
        counter, _ = _COUNTERS[args.count_under_callgrind]
        counter(args.scratch)
        return
    if args.instructions:
        with tempfile.TemporaryDirectory(prefix="playdeck-bench-") as directory:
            count_instructions(args.tests, Path(directory), attachments=attachments)
        return

    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="playdeck-bench-")))
        (scratch / "data").mkdir()
        if args.postgres:
            database_url = stack.enter_context(postgres_database(args.postgres))
        else:
            database_url = args.database_url or f"sqlite:///{scratch / 'data' / 'playdeck.db'}"
        print(f"Machine: {machine(database_url)}")
        print(f"Before: {load_average()}")
        print(
            f"Report: {args.tests:,} tests, {args.repeat} uploads per endpoint, "
            + ("inline screenshots on failed attempts" if attachments else "no attachments")
        )
        medians = []
        with playdeck_server(
            database_url, scratch / "data", env={"PLAYDECK_MAX_UPLOAD_MB": "1024"}, port=args.port
        ) as server:
            endpoints = ("submit", "upload") if args.endpoint == "both" else (args.endpoint,)
            for number, endpoint in enumerate(endpoints):
                timings = measure(
                    server,
                    tests=args.tests,
                    repeat=args.repeat,
                    endpoint=endpoint,
                    scratch=scratch,
                    first=number == 0,
                    attachments=attachments,
                )
                medians.append(_summary(endpoint, args.tests, timings))
        print(f"After: {load_average()}")
        if not args.no_floor:
            body = orjson.dumps(generate_report(args.tests, seed=1, attachments=attachments))
            floor = prepare_floor(body, scratch)
            floors = [measure_floor(body, floor, scratch) for _ in range(FLOOR_REPEAT)]
            floor_wall = statistics.median(wall for wall, _ in floors)
            floor_cpu = statistics.median(cpu for _, cpu in floors)
            rows = sum(len(r) for _, r in floor.rows.values())
            print(
                f"Floor (orjson.loads + executemany of {rows:,} rows in one SQLite transaction + "
                f"{len(floor.files):,} files): median {floor_wall * 1000:.0f} ms "
                f"({args.tests / floor_wall:,.0f} tests/s), CPU {floor_cpu * 1000:.0f} ms; "
                f"of {', '.join(f'{wall * 1000:.0f}' for wall, _ in floors)} ms"
            )
            for endpoint, (median, cpu) in zip(endpoints, medians, strict=True):
                print(
                    f"{endpoint}: median / floor = {median / floor_wall:.2f}x wall, "
                    f"{cpu / floor_cpu:.2f}x CPU "
                    f"(target <= {TARGET_FLOOR_RATIO}x and >= {TARGET_TESTS_PER_SECOND:,} tests/s)"
                )
        if args.profile:
            # A fresh database, so the first profiled run creates the identities again.
            if args.postgres:
                profile_url = stack.enter_context(postgres_database(args.postgres))
            else:
                profile_url = f"sqlite:///{scratch / 'profile.db'}"
            profile_ingest(
                profile_url,
                scratch / "profile",
                tests=args.tests,
                top=args.top,
                attachments=attachments,
            )


if __name__ == "__main__":
    main()
