"""Real ``playdeck`` processes for the backup tests: ``serve`` on a free port, the other
commands run to completion; databases: a SQLite file, or a fresh PostgreSQL database."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import make_url, text

from playdeck.db import make_engine

PLAYDECK = str(Path(sys.executable).with_name("playdeck"))
STARTUP_SECONDS = 60
COMMAND_SECONDS = 300


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def environment(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAYDECK_")}
    env.update(
        PLAYDECK_DATA_DIR=str(data_dir),
        PLAYDECK_REQUIRE_AUTH="false",
        PLAYDECK_RETENTION_INTERVAL_SECONDS="0",
        PLAYDECK_LOG_LEVEL="warning",
    )
    if database_url is not None:
        env["PLAYDECK_DATABASE_URL"] = database_url
    return env


def playdeck(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PLAYDECK, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        check=False,
    )


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """``playdeck serve`` until the block ends; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [PLAYDECK, "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"playdeck serve did not start:\n{log.read_text()}")
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the server of ``server_url``, dropped afterwards."""
    url = make_url(server_url)
    name = f"playdeck_backup_{secrets.token_hex(4)}"
    admin = make_engine(server_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
