"""Where a browser goes around signing in: to ``/login`` when a page needs a signed-in viewer,
and back to the page it asked for afterwards, never anywhere else.
"""

from __future__ import annotations

import inspect
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from playdeck.errors import AppError, Unauthorized
from playdeck.twofactor.enforcement import ENROLMENT_PAGE, ENROLMENT_REQUIRED_CODE
from playdeck.web.errors import Handler, prefers_html

LOGIN_PATH = "/login"
MAX_NEXT_LENGTH = 2000
# Pages a successful sign-in must not return to: it would land on a form, or loop.
NOT_A_DESTINATION = frozenset({"/login", "/logout", "/setup", "/register"})


def safe_next(value: str | None) -> str | None:
    """``value`` when it is a path on this site, else ``None``.

    Only an absolute path with no scheme or host qualifies: ``//evil.com`` and ``/\\evil.com``
    are hosts to a browser, ``https://...`` and ``javascript:...`` are not paths, and browsers
    drop tabs and newlines from URLs (``/\\t/evil.com`` becomes ``//evil.com``), so any control
    character, backslash or non-ASCII character refuses the value outright.
    """
    if not value or len(value) > MAX_NEXT_LENGTH:
        return None
    if not value.isascii() or not value.isprintable() or "\\" in value:
        return None
    if not value.startswith("/") or value.startswith("//"):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme or parts.netloc or parts.path in NOT_A_DESTINATION:
        return None
    return value


def login_url(next_path: str | None = None) -> str:
    target = safe_next(next_path)
    if target is None or target == "/":
        return LOGIN_PATH
    return f"{LOGIN_PATH}?{urlencode({'next': target})}"


def requested_path(request: Request) -> str:
    """The path and query the browser asked for, as it sent them (still percent-encoded)."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    query = request.url.query
    return f"{path}?{query}" if query else path


def _redirect_to_login(json_or_page: Handler) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        if request.method in ("GET", "HEAD") and prefers_html(request):
            if isinstance(exc, Unauthorized):
                return RedirectResponse(login_url(requested_path(request)), status_code=303)
            if isinstance(exc, AppError) and exc.code == ENROLMENT_REQUIRED_CODE:
                # PLAYDECK_REQUIRE_TWO_FACTOR_FOR_ADMINS: nothing but enrolment until enrolled.
                return RedirectResponse(ENROLMENT_PAGE, status_code=303)
        answer = json_or_page(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    return handler


def install_sign_in_redirect(app: FastAPI) -> None:
    """Send browsers that open a page needing a signed-in viewer to ``/login?next=<page>``.

    Wraps the ``AppError`` handler (install the HTML error pages first). Only page loads (GET,
    HEAD from a browser) are redirected; a form posted without a session gets the 401 page, and
    API clients keep their ``401`` problem+json.
    """
    app.add_exception_handler(AppError, _redirect_to_login(app.exception_handlers[AppError]))
