"""What every sign-in, setup, registration and password change is weighed against: the
``Attempt`` (settings, rate limits, client), and the refusal when authentication is off."""

from __future__ import annotations

from dataclasses import dataclass

from playdeck.auth.client import ClientInfo
from playdeck.auth.rate_limit import RateLimits
from playdeck.errors import BadRequest
from playdeck.settings import Settings


def ensure_enabled(settings: Settings) -> None:
    if not settings.require_auth:
        raise BadRequest("authentication is disabled", code="auth_disabled")


@dataclass(frozen=True, slots=True)
class Attempt:
    """Who is asking, from where, under which rules: what every sign-in, setup, registration
    and password change is checked against (the settings, the rate limits, the client)."""

    settings: Settings
    limits: RateLimits
    client: ClientInfo
