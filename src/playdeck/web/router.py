"""The web dashboard: page routers, static files, security headers and HTML error pages.

``install_web(app)`` is the one call ``create_app`` makes; it must come after
``install_error_handlers`` because the HTML error pages wrap the problem+json handlers.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from playdeck.settings import Settings
from playdeck.web import (
    account,
    account_links,
    account_self_service,
    admin_api_keys,
    admin_audit,
    admin_sso,
    admin_user_actions,
    admin_users,
    email_verification,
    identity,
    link_issuing,
    members,
    onboarding,
    overview,
    own_api_keys,
    project_settings,
    projects,
    quarantine,
    run_actions,
    runs,
    service_account_pages,
    sso,
    tests,
    traces,
    triage,
    two_factor,
    two_factor_sign_in,
    user_content,
)
from playdeck.web.api_docs import install_api_docs
from playdeck.web.errors import install_html_errors
from playdeck.web.headers import SecurityHeadersMiddleware
from playdeck.web.redirects import install_sign_in_redirect
from playdeck.web.rendering import STATIC_DIR, STATIC_PREFIX

# Pages are not API: they stay out of the OpenAPI schema.
router = APIRouter(include_in_schema=False)
for page_group in (
    overview,
    projects,
    runs,
    tests,
    triage,
    identity,
    sso,
    onboarding,
    account,
    account_links,
    admin_audit,
    admin_sso,
    admin_users,
    admin_user_actions,
    own_api_keys,
    admin_api_keys,
    members,
    user_content,
    traces,
    project_settings,
    run_actions,
    link_issuing,
    service_account_pages,
    quarantine,
    account_self_service,
    email_verification,
    two_factor_sign_in,
    two_factor,
):
    router.include_router(page_group.router)


def install_web(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    install_html_errors(app)
    install_api_docs(app)
    install_sign_in_redirect(app)  # wraps the HTML error pages: install after them
    settings: Settings = app.state.settings
    app.add_middleware(
        SecurityHeadersMiddleware,
        trusted_proxies=settings.trusted_proxies,
        form_targets=settings.sso.origins(),
    )
