"""``GET /metrics``: Prometheus' text format.

Open like every other page while authentication is off. With authentication on it answers only
to ``Authorization: Bearer <PLAYDECK_METRICS_TOKEN>``, and not at all (404) while no token is
set; ``PLAYDECK_METRICS_ENABLED=false`` turns it off everywhere.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response

from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SettingsDep
from playdeck.errors import NotFound, Unauthorized
from playdeck.observability.metrics import exposition
from playdeck.settings import Settings

router = APIRouter(tags=["system"])


def metrics_served(settings: Settings) -> bool:
    if not settings.metrics_enabled:
        return False
    return settings.metrics_token is not None or not settings.require_auth


def _check_token(settings: Settings, authorization: str | None) -> None:
    if settings.metrics_token is None:
        return
    scheme, _, offered = (authorization or "").partition(" ")
    expected = settings.metrics_token.get_secret_value()
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        offered.strip().encode(), expected.encode()
    ):
        raise Unauthorized("A valid metrics token is required")


@router.get(
    "/metrics",
    dependencies=[authorize(Permission.PUBLIC)],
    response_class=Response,
    include_in_schema=False,
)
def get_metrics(request: Request, settings: SettingsDep) -> Response:
    """Request, ingest, database-pool and sign-in counters for Prometheus."""
    if not metrics_served(settings):
        raise NotFound("Not Found")
    _check_token(settings, request.headers.get("authorization"))
    body, content_type = exposition()
    return Response(body, media_type=content_type)
