"""Private services for the fault suite: a redis-server, a PostgreSQL cluster and
``playdeck serve`` processes, each on a free port in a temporary directory.

Never the machine's shared PostgreSQL or Redis: these are stopped, frozen and restarted.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx
import psycopg

STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _accepts(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), 1):
        return True


def _wait_for(check: object, what: str, seconds: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {seconds} s")


@dataclass
class Redis:
    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(lambda: _accepts(self.port), "redis-server")

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


@dataclass
class Postgres:
    """A throwaway cluster (trust auth on loopback), run as ``postgres`` when we are root."""

    directory: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def _run(self, *args: str) -> None:
        binary = postgres_bin()
        assert binary is not None
        command = [str(binary / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c max_connections=300"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.directory / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def playdeck_bin() -> str:
    return str(Path(sys.executable).parent / "playdeck")


@dataclass
class Instance:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    log_handle: BinaryIO


def start_instances(
    count: int, env: dict[str, str], log_dir: Path, *, wait: bool = True
) -> list[Instance]:
    """``count`` ``playdeck serve`` processes with ``env``, started at the same moment."""
    instances = []
    for i in range(count):
        port = free_port()
        log = log_dir / f"serve-{port}.log"
        handle = log.open("wb")
        process = subprocess.Popen(
            [playdeck_bin(), "serve", "--port", str(port)],
            env={
                **os.environ,
                "PLAYDECK_LOG_LEVEL": "warning",
                "PLAYDECK_STORAGE_SWEEP_SECONDS": "0",
                **env,
            },
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        instances.append(Instance(f"http://127.0.0.1:{port}", process, log, handle))
        del i
    if wait:
        try:
            for instance in instances:
                wait_ready(instance)
        except BaseException:
            stop_instances(instances)  # none outlives a failed start
            raise
    return instances


def wait_ready(instance: Instance) -> None:
    def ready() -> bool:
        if instance.process.poll() is not None:
            raise AssertionError(
                f"playdeck serve exited {instance.process.returncode}:\n"
                + instance.log.read_text(errors="replace")[-3000:]
            )
        return httpx.get(f"{instance.url}/healthz", timeout=2).status_code == 200

    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{instance.url} did not come up")


def stop_instances(instances: list[Instance]) -> None:
    for instance in instances:
        if instance.process.poll() is None:
            instance.process.terminate()
    for instance in instances:
        try:
            instance.process.wait(15)
        except subprocess.TimeoutExpired:
            instance.process.kill()
            instance.process.wait(5)
        instance.log_handle.close()
