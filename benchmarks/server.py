"""What the benchmarks share: a throwaway PostgreSQL database, a real `playdeck serve` whose
CPU time and peak memory can be read (Linux ``/proc``), the machine's description and load."""

from __future__ import annotations

import contextlib
import os
import platform
import secrets
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import make_url, text

from playdeck.db import make_engine

STARTUP_SECONDS = 60
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# What operators run: the console script installed beside this interpreter (its spawned ingest
# workers run its main script again, so the figures depend on which command starts the server).
PLAYDECK = str(Path(sys.executable).with_name("playdeck"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextlib.contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A throwaway database on the PostgreSQL server, dropped afterwards."""
    url = make_url(server_url)
    name = f"playdeck_bench_{secrets.token_hex(4)}"
    admin = make_engine(url.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as stat:
        # Fields after the command name (which may hold spaces) start at index 2.
        return stat.read().rsplit(")", 1)[1].split()


def _status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if int(_stat_fields(int(entry))[1]) == pid:
                    found.append(int(entry))
    return found


@dataclass(frozen=True)
class Server:
    """A running ``playdeck serve``: its base URL and process, for CPU and memory readings.

    The server may run its ingests in worker processes: CPU and memory are those of the whole
    process tree (the server, its live children, and the children it has waited for)."""

    url: str
    pid: int

    def tree(self) -> list[int]:
        """The server and its live descendants."""
        pids, index = [self.pid], 0
        while index < len(pids):
            pids.extend(_children(pids[index]))
            index += 1
        return pids

    def cpu_seconds(self) -> float:
        """User + system CPU time the server and its worker processes have used so far."""
        ticks = 0
        for number, pid in enumerate(self.tree()):
            with contextlib.suppress(OSError):
                fields = _stat_fields(pid)
                ticks += int(fields[11]) + int(fields[12])
                if number == 0:  # children that exited and were waited for
                    ticks += int(fields[13]) + int(fields[14])
        return ticks / _CLOCK_TICKS

    def rss_mib(self) -> float:
        """Resident memory of the server and its worker processes now."""
        total = 0
        for pid in self.tree():
            with contextlib.suppress(OSError, RuntimeError):
                total += _status_kib(pid, "VmRSS")
        return total / 1024

    def peak_rss_mib(self) -> float:
        """The server process's own peak resident memory since it started (``VmHWM``)."""
        return _status_kib(self.pid, "VmHWM") / 1024


class PeakSampler:
    """The highest total resident memory of a server's process tree, sampled every 20 ms
    while in use (worker processes that exit take their own peak with them)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_mib = max(self.peak_mib, self.server.rss_mib())

    def __enter__(self) -> PeakSampler:
        self.peak_mib = self.server.rss_mib()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def playdeck_server(
    database_url: str, data_dir: Path, *, env: dict[str, str] | None = None, port: int = 0
) -> Iterator[Server]:
    """``playdeck serve`` (migrations, then uvicorn, one process) in a subprocess on ``port``
    (0: a free one)."""
    port = port or free_port()
    environment = {
        **os.environ,
        "PLAYDECK_DATABASE_URL": database_url,
        "PLAYDECK_DATA_DIR": str(data_dir),
        "PLAYDECK_LOG_LEVEL": "warning",
        "PLAYDECK_REQUIRE_AUTH": "false",
        **(env or {}),
    }
    command = [
        PLAYDECK,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, env=environment)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise SystemExit(f"playdeck serve exited with {process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("playdeck serve did not become ready")
            time.sleep(0.1)
        yield Server(url=base, pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def load_average() -> str:
    """The 1, 5 and 15-minute load averages: other work competing for this machine's cores."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def machine(database_url: str) -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    if database_url.startswith("sqlite"):
        database = f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL)"
    else:
        engine = make_engine(database_url)
        with engine.connect() as conn:
            version = str(conn.execute(text("SHOW server_version")).scalar())
        engine.dispose()
        database = f"PostgreSQL {version}"
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()} {platform.release()}, "
        f"{database}"
    )
