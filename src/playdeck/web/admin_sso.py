"""``/admin/sso``: what single sign-on is configured to do (read-only: the providers file is the
one place to change it). Providers without their secrets, the claim rules, how many people
each provider has signed in, and whether password sign-in is on."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from playdeck.sso import repository
from playdeck.web.admin_users import Admin
from playdeck.web.rendering import render
from playdeck.web.views import ViewDep

router = APIRouter()


@router.get("/admin/sso", response_class=HTMLResponse)
def show_sso_settings(view: ViewDep, principal: Admin) -> HTMLResponse:
    settings = view.settings
    return render(
        view.request,
        "admin/sso.html",
        principal=principal,
        providers=settings.sso.providers,
        rules=settings.sso.rules,
        identities=repository.identities_per_provider(view.session),
        config_path=settings.oidc_config,
        password_sign_in=settings.password_sign_in,
        break_glass_admin=settings.break_glass_admin,
    )
