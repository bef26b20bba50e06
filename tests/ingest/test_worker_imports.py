"""The ingest worker process imports what ingest needs and no web framework.

A worker is spawned: it imports ``playdeck.ingest.worker`` and what that imports, and runs the
serving process's main script again (the console script imports only ``playdeck.__main__``,
which imports nothing); nothing else of the serving process. FastAPI (with pydantic's
validators, OpenTelemetry, the auth stack behind the route dependencies) would sit in every
worker's memory for nothing.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.fixtures.servers import unused_port


def _modules_after_importing(module: str) -> set[str]:
    code = f"import sys, orjson, {module}; sys.stdout.buffer.write(orjson.dumps(list(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, timeout=120
    )
    return set(orjson.loads(done.stdout))


def test_the_worker_process_imports_no_web_framework() -> None:
    modules = _modules_after_importing("playdeck.ingest.worker")
    assert "playdeck.ingest.use_cases" in modules  # what the worker runs
    web = sorted(m for m in modules if m.split(".")[0] in ("fastapi", "jwt", "cryptography"))
    assert web == []
    assert not any(m.endswith((".endpoints", ".dependencies")) for m in modules)


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # "pid (name) state ppid ...": the name may hold spaces, so split after it.
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _maps_cryptography(pid: int) -> bool:
    return "/cryptography/" in Path(f"/proc/{pid}/maps").read_text()


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads Linux's /proc")
def test_workers_of_the_installed_command_load_no_web_framework(tmp_path: Path) -> None:
    """What operators run: the ``playdeck`` console script. Its spawned workers run the script
    again first; they must not load the command line and the web stack with it. The check reads
    the workers' mapped files: the auth stack's compiled ``cryptography`` bindings are in the
    server (the control) and must not be in a worker."""
    script = Path(sys.executable).with_name("playdeck")
    assert script.is_file(), "the console script is installed beside the interpreter"
    port = unused_port()
    environment = {
        **os.environ,
        "PLAYDECK_DATABASE_URL": f"sqlite:///{tmp_path / 'playdeck.db'}",
        "PLAYDECK_DATA_DIR": str(tmp_path / "data"),
        "PLAYDECK_INGEST_IN_WORKER_PROCESS": "true",
        "PLAYDECK_MAX_CONCURRENT_INGESTS": "1",
        "PLAYDECK_LOG_LEVEL": "warning",
    }
    server = subprocess.Popen(
        [str(script), "serve", "--host", "127.0.0.1", "--port", str(port)], env=environment
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # ready means the workers are started (the pool waits for them)
            assert server.poll() is None, "playdeck serve exited"
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            assert time.monotonic() < deadline, "playdeck serve did not become ready"
            time.sleep(0.1)
        assert _maps_cryptography(server.pid)  # the control: the server has the auth stack
        workers = _children(server.pid)
        assert workers  # the ingest worker (and multiprocessing's resource tracker)
        assert [pid for pid in workers if _maps_cryptography(pid)] == []
    finally:
        server.terminate()
        server.wait(30)
