from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from playdeck.auth.credentials import resolve_credentials
from playdeck.auth.principal import Principal
from playdeck.deps import SessionDep, SettingsDep


def get_principal(request: Request, session: SessionDep, settings: SettingsDep) -> Principal:
    if not settings.require_auth:
        return Principal.builtin_admin()
    return resolve_credentials(request, session, settings) or Principal.anonymous()


PrincipalDep = Annotated[Principal, Depends(get_principal)]
