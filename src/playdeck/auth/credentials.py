"""Resolve the request's credential (session cookie, bearer JWT, API key) to a principal.

Filled in by the authentication issue; until then an enabled auth layer has no credential it
accepts, so every protected route denies (deny by default).
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.settings import Settings


def resolve_credentials(request: Request, session: Session, settings: Settings) -> Principal | None:
    del request, session, settings
    return None
