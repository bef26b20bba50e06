"""The web dashboard: page routers, static files, security headers and HTML error pages.

``install_web(app)`` is the one call ``create_app`` makes; it must come after
``install_error_handlers`` because the HTML error pages wrap the problem+json handlers.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from playdeck.web import (
    account,
    admin_audit,
    admin_users,
    api_keys,
    identity,
    members,
    onboarding,
    overview,
    project_settings,
    projects,
    run_actions,
    runs,
    tests,
)
from playdeck.web.errors import install_html_errors
from playdeck.web.headers import SecurityHeadersMiddleware
from playdeck.web.redirects import install_sign_in_redirect
from playdeck.web.rendering import STATIC_DIR, STATIC_PREFIX

# Pages are not API: they stay out of the OpenAPI schema.
router = APIRouter(include_in_schema=False)
router.include_router(overview.router)
router.include_router(projects.router)
router.include_router(runs.router)
router.include_router(tests.router)
router.include_router(identity.router)
router.include_router(onboarding.router)
router.include_router(account.router)
router.include_router(admin_audit.router)
router.include_router(admin_users.router)
router.include_router(api_keys.router)
router.include_router(members.router)
router.include_router(project_settings.router)
router.include_router(run_actions.router)


def install_web(app: FastAPI) -> None:
    app.include_router(router)
    # GET /admin/users is also the JWT login API's JSON list (users.endpoints): browsers get this
    # page.
    app.state.admin_users_page = admin_users.show_users_page
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    install_html_errors(app)
    install_sign_in_redirect(app)  # wraps the HTML error pages: install after them
    docs_paths = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    app.add_middleware(
        SecurityHeadersMiddleware, skip_paths={p for p in docs_paths if p is not None}
    )
