"""The ingest worker process imports what ingest needs and no web framework.

A worker is spawned: it imports ``playdeck.ingest.worker`` and what that imports, nothing of the
serving process. FastAPI (with pydantic's validators, OpenTelemetry, the auth stack behind the
route dependencies) would sit in every worker's memory for nothing.
"""

from __future__ import annotations

import subprocess
import sys

import orjson


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
