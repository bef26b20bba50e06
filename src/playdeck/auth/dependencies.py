from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from playdeck.auth.client import ClientInfo, client_info
from playdeck.auth.credentials import resolve_credentials
from playdeck.auth.csrf import submitted_token
from playdeck.auth.principal import Principal
from playdeck.deps import SessionDep, SettingsDep


def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    submitted_csrf: Annotated[str | None, Depends(submitted_token)],
) -> Principal:
    if not settings.require_auth:
        return Principal.builtin_admin()
    return resolve_credentials(request, session, settings, submitted_csrf) or Principal.anonymous()


def get_client(request: Request, settings: SettingsDep) -> ClientInfo:
    return client_info(request, settings.trusted_proxies)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
ClientDep = Annotated[ClientInfo, Depends(get_client)]
