"""What both benchmarks need: a throwaway PostgreSQL database and a real `playdeck serve`."""

from __future__ import annotations

import contextlib
import os
import platform
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import make_url, text

from playdeck.db import make_engine

STARTUP_SECONDS = 60


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


@contextlib.contextmanager
def playdeck_server(
    database_url: str, data_dir: Path, *, env: dict[str, str] | None = None
) -> Iterator[str]:
    """``playdeck serve`` (migrations, then uvicorn) in a subprocess; yields its base URL."""
    port = free_port()
    environment = {
        **os.environ,
        "PLAYDECK_DATABASE_URL": database_url,
        "PLAYDECK_DATA_DIR": str(data_dir),
        "PLAYDECK_LOG_LEVEL": "warning",
        "PLAYDECK_REQUIRE_AUTH": "false",
        **(env or {}),
    }
    command = [
        sys.executable,
        "-c",
        "from playdeck.cli.main import app; app()",
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
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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
