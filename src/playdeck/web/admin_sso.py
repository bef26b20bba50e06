"""``/admin/sso``: what single sign-on is configured to do (read-only: the providers file is the
one place to change it). Providers without their secrets, the claim rules, how many people
each provider has signed in, and whether password sign-in is on."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep, SettingsDep
from playdeck.sso import repository
from playdeck.web.rendering import render

router = APIRouter()


@router.get("/admin/sso", response_class=HTMLResponse)
def show_sso_settings(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, authorize(Permission.USERS_ADMIN)],
) -> HTMLResponse:
    return render(
        request,
        "admin/sso.html",
        principal=principal,
        providers=settings.sso.providers,
        rules=settings.sso.rules,
        identities=repository.identities_per_provider(session),
        config_path=settings.oidc_config,
        password_sign_in=settings.password_sign_in,
        break_glass_admin=settings.break_glass_admin,
    )
