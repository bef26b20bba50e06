"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from playdeck import __version__
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.problems import OrjsonResponse, problem
from playdeck.system.readiness import check_readiness

router = APIRouter(tags=["system"])


@router.get("/healthz", dependencies=[authorize(Permission.PUBLIC)])
async def get_health() -> dict[str, str]:
    """The process is up. Async on purpose: it needs no worker thread, so it answers even
    while every thread waits on a slow dependency."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", dependencies=[authorize(Permission.PUBLIC)])
async def get_readiness(request: Request) -> OrjsonResponse:
    """Each dependency, checked now: the database, Redis (when configured) and the data
    directory (writable). 200 when all are ok; otherwise a 503 problem detail whose
    ``checks`` say which one failed."""
    state = request.app.state
    checks = await run_in_threadpool(
        check_readiness, state.engine, state.rate_limits, state.blob_store
    )
    body = {name: check.as_json() for name, check in checks.items()}
    if all(check.ok for check in checks.values()):
        return OrjsonResponse({"status": "ready", "checks": body})
    failing = ", ".join(name for name, check in checks.items() if not check.ok)
    return problem(
        503,
        f"Not ready: {failing}",
        code="not_ready",
        headers={"Retry-After": "5"},
        extra={"checks": body},
    )
