from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from playdeck.auth.client import ClientInfo, client_info
from playdeck.auth.credentials import resolve_credentials
from playdeck.auth.csrf import check_origin, submitted_token
from playdeck.auth.principal import Principal
from playdeck.deps import SessionDep, SettingsDep
from playdeck.kit.http import SAFE_METHODS


def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    submitted_csrf: Annotated[str | None, Depends(submitted_token)],
) -> Principal:
    if request.method not in SAFE_METHODS:
        # Whatever the credential, and with authentication off too (where there is none and any
        # page on the web could otherwise post as the built-in administrator).
        check_origin(request, public_url=settings.public_url)
    if not settings.require_auth:
        principal = Principal.builtin_admin()
    else:
        principal = (
            resolve_credentials(request, session, settings, submitted_csrf) or Principal.anonymous()
        )
    # The HTML error pages (403, 404 after the route's checks) keep the viewer's user menu.
    request.state.principal = principal
    return principal


def get_client(request: Request, settings: SettingsDep) -> ClientInfo:
    return client_info(request, settings.trusted_proxies)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
ClientDep = Annotated[ClientInfo, Depends(get_client)]
