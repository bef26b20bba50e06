"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from playdeck import __version__
from playdeck.authz.permissions import Permission
from playdeck.authz.service import authorize
from playdeck.deps import SessionDep
from playdeck.errors import AppError

router = APIRouter(tags=["system"])


@router.get("/healthz", dependencies=[authorize(Permission.PUBLIC)])
def get_health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", dependencies=[authorize(Permission.PUBLIC)])
def get_readiness(session: SessionDep) -> dict[str, str]:
    """The database answers."""
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:
        raise AppError("Database unreachable", status=503, code="not_ready") from exc
    return {"status": "ready"}
