"""What ``/readyz`` checks: each dependency an instance needs to serve, within a short bound."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from playdeck.auth.rate_limit import RateLimits
from playdeck.storage.base import BlobStore

# PostgreSQL: a probe that waits longer than this on a frozen server is a failure.
PROBE_TIMEOUT_MS = 2000


@dataclass(frozen=True, slots=True)
class Check:
    ok: bool
    error: str | None = None
    ms: float = 0.0

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": "ok" if self.ok else "failing", "ms": round(self.ms, 1)}
        if self.error:
            body["error"] = self.error
        return body


def _timed(probe: Any) -> Check:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # any failure of a probe is "not ready", never a 500
        return Check(False, f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:200]}")
    return Check(True, ms=(time.perf_counter() - started) * 1000)


def _database(engine: Engine) -> None:
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SET LOCAL statement_timeout = {PROBE_TIMEOUT_MS}")
        conn.execute(text("SELECT 1"))


def _redis(limits: RateLimits) -> None:
    with limits.bulkhead.call():
        if not limits.storage.check():
            raise ConnectionError("Redis did not answer PING")


def _data_dir(store: BlobStore) -> None:
    probe = os.path.join(str(store.root), "tmp", f"ready-{secrets.token_hex(4)}")
    with open(probe, "wb") as handle:
        handle.write(b"ok")
    os.unlink(probe)


def check_readiness(engine: Engine, limits: RateLimits, store: BlobStore) -> dict[str, Check]:
    checks = {"database": _timed(lambda: _database(engine))}
    if limits.shared:
        checks["redis"] = _timed(lambda: _redis(limits))
    checks["data_dir"] = _timed(lambda: _data_dir(store))
    return checks
