"""``playdeck serve`` as a child process on a free port, for tests that need a whole server
process of its own (its file descriptors, its environment, its log)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

PLAYDECK = Path(sys.executable).with_name("playdeck")
STARTUP_SECONDS = 60


@dataclass(frozen=True, slots=True)
class ServedProcess:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def open_files(self) -> list[str]:
        """Where the server process's file descriptors point (``/proc/<pid>/fd``)."""
        targets = []
        fd_dir = Path(f"/proc/{self.process.pid}/fd")
        for entry in fd_dir.iterdir():
            try:
                targets.append(os.readlink(entry))
            except OSError:
                continue  # closed meanwhile
        return targets


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def playdeck_serve(workdir: Path, env: dict[str, str]) -> Iterator[ServedProcess]:
    port = free_port()
    log = workdir / "server.log"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PLAYDECK_")}
    environment.update(env)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(PLAYDECK), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"playdeck serve exited: {log.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"playdeck serve did not start: {log.read_text()}")
            time.sleep(0.1)
        yield ServedProcess(url=url, port=port, process=process, log=log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
