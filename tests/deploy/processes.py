"""Real ``playdeck`` processes for the deployment tests: started, awaited, always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

PLAYDECK = str(Path(sys.executable).parent / "playdeck")
STARTUP_SECONDS = 90  # several workers import the app in parallel on a busy 2-core machine
# Settings from the developer's shell or .env must not leak into a test's server.
_OWN_PREFIXES = (
    "PLAYDECK_",
    "REQUIRE_AUTH",
    "NUXT_AUTH",
    "JWT_SECRET_KEY",
    "ALLOW_REGISTRATION",
    "INITIAL_ADMIN",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def clean_env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_PREFIXES)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(settings)
    return env


def run_playdeck(
    *args: str, env: Mapping[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PLAYDECK, *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


def wait_until_healthy(url: str, process: subprocess.Popen[str], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"playdeck exited with {process.returncode}:\n{log_path.read_text()}"
            )
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"playdeck did not become healthy:\n{log_path.read_text()}")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextmanager
def playdeck_serve(
    *args: str, env: Mapping[str, str], workdir: Path, name: str = "playdeck"
) -> Iterator[Server]:
    """``playdeck serve ARGS`` on a free port (``PLAYDECK_PORT``), healthy before it is yielded."""
    port = free_port()
    log_path = workdir / f"{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [PLAYDECK, "serve", "--port", str(port), *args],
            env={**env, "PLAYDECK_HOST": "127.0.0.1"},
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log_path)
        yield Server(url=url, process=process, log_path=log_path)
    finally:
        stop(process)
