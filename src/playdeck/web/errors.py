"""HTML error pages for browsers; every other caller keeps RFC 9457 problem+json.

``install_html_errors`` wraps the handlers ``playdeck.problems.install_error_handlers`` registered:
a request outside ``/api/`` whose ``Accept`` prefers ``text/html`` gets a page, anything else
gets exactly what the JSON handler answers.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from playdeck.auth.credentials import resolve_credentials
from playdeck.auth.principal import Principal
from playdeck.db import reading_session
from playdeck.errors import OUTAGE_EXCEPTIONS, AppError, outage_error
from playdeck.kit.http import SAFE_METHODS
from playdeck.observability.request_id import HEADER as REQUEST_ID_HEADER
from playdeck.observability.request_id import current_request_id
from playdeck.settings import Settings
from playdeck.web.headers import add_page_headers
from playdeck.web.rendering import render

logger = logging.getLogger("playdeck.errors")

# Starlette's handler type: sync or async, taking the exception it was registered for.
Handler = Callable[[Request, Any], Response | Awaitable[Response]]
# A form's page shown again: given a fresh read-only session and the refusal to show.
Page = Callable[[Session, AppError], Response]
API_PREFIX = "/api/"
HTML_TYPES = ("text/html", "application/xhtml+xml")
JSON_TYPES = ("application/json", "application/problem+json")

# What a person should read for each status; the domain's own detail is used where it is safe.
TITLES = {
    400: "Bad request",
    401: "Sign in required",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    409: "Conflict",
    413: "Too large",
    422: "Invalid request",
    423: "Account locked",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Temporarily unavailable",
    507: "Storage full",
}


class FormRefused(AppError):
    """A refusal of a form post, to be shown on the form's page rather than an error page.

    A page handler raises it (``web.forms.refusals_on``) instead of rendering the page itself:
    the request's session dependency settles the transaction as the refusal says (rolled back,
    or committed for a recorded refusal such as a failed sign-in), and only then does the error
    layer render ``page``, in a new read-only session, so the page shows what was committed and
    nothing the refused change flushed. ``page`` must load what it shows from that session
    (the request's objects are expired by the rollback).
    """

    def __init__(self, refusal: AppError, page: Page) -> None:
        super().__init__(
            refusal.detail,
            status=refusal.status,
            code=refusal.code,
            headers=refusal.headers,
            extra=refusal.extra,
            commit=refusal.commit,
        )
        self.refusal = refusal
        self.page = page


def _quality(accept: str, wanted: tuple[str, ...]) -> float:
    """Highest q the ``Accept`` header gives any of ``wanted`` by name (wildcards ignored)."""
    best = 0.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if media.lower() not in wanted:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = max(best, q)
    return best


def prefers_html(request: Request) -> bool:
    """A browser asking for a page: not an API path, and HTML named in ``Accept`` at least as
    strongly as JSON (``*/*`` alone, as curl sends, is not a browser)."""
    if request.url.path.startswith(API_PREFIX):
        return False
    accept = request.headers.get("accept", "")
    html = _quality(accept, HTML_TYPES)
    return html > 0 and html >= _quality(accept, JSON_TYPES)


def _known_viewer(request: Request) -> Principal | None:
    """Who the request's own credential check found, if it got that far."""
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else None


def _resolve_viewer(request: Request) -> Principal | None:
    """The viewer of a page whose route never checked a credential (an unknown address): the
    cookie or token read in a read-only session; nobody when that fails in any way."""
    settings: Settings = request.app.state.settings
    if not settings.require_auth:
        return Principal.builtin_admin()
    try:
        with reading_session(request) as session:
            return resolve_credentials(request, session, settings)
    except AppError:
        return None


def error_page(
    request: Request, status: int, detail: str | None, *, principal: Principal | None = None
) -> Response:
    title = TITLES.get(status) or HTTPStatus(status).phrase
    response = render(
        request,
        "errors/error.html",
        principal=principal or _known_viewer(request),
        status_code=status,
        status=status,
        title=title,
        detail=detail,
    )
    # A 500 leaves through Starlette's outermost middleware, past SecurityHeadersMiddleware.
    add_page_headers(response.headers)
    return response


def _page_detail(exc: Exception, status: int) -> str | None:
    if isinstance(exc, AppError):
        return exc.detail
    if isinstance(exc, RequestValidationError):
        return "The address or the form has a value this page does not accept."
    if status == 404:
        return "There is nothing at this address."
    if isinstance(exc, StarletteHTTPException) and isinstance(exc.detail, str):
        return exc.detail
    return None


def _status_of(exc: AppError | RequestValidationError | StarletteHTTPException) -> int:
    if isinstance(exc, AppError):
        return exc.status
    if isinstance(exc, RequestValidationError):
        return 422
    return exc.status_code


def _negotiating(json_handler: Handler) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        if not prefers_html(request):
            answer = json_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        outage = None if isinstance(exc, AppError) else outage_error(exc)
        if outage is not None:
            exc = outage
        elif isinstance(exc, OUTAGE_EXCEPTIONS):  # not an outage: a refused value, say
            answer = json_handler(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        if isinstance(exc, (AppError, RequestValidationError, StarletteHTTPException)):
            status = _status_of(exc)
            viewer = _known_viewer(request)
            if viewer is None and status == 404 and request.method in SAFE_METHODS:
                viewer = await run_in_threadpool(_resolve_viewer, request)
            response = error_page(request, status, _page_detail(exc, status), principal=viewer)
        else:
            logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
            response = error_page(request, 500, "The error was logged. Try again in a moment.")
            request_id = current_request_id()  # past the request id middleware too, like a 500
            if request_id:
                response.headers[REQUEST_ID_HEADER] = request_id
        if isinstance(exc, (AppError, StarletteHTTPException)) and exc.headers:
            for name, value in exc.headers.items():
                if name.lower() != "www-authenticate":
                    response.headers[name] = value
        return response

    return handler


def _showing_form(app_error: Handler) -> Handler:
    def show(request: Request, exc: FormRefused) -> Response:
        with reading_session(request) as session:
            return exc.page(session, exc.refusal)

    async def handler(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, FormRefused)
        try:
            return await run_in_threadpool(show, request, exc)
        except AppError as failed:  # the page itself refuses (its object is gone): say so
            answer = app_error(request, failed)
            return await answer if inspect.isawaitable(answer) else answer

    return handler


def install_html_errors(app: FastAPI) -> None:
    """Wrap the problem+json handlers already on ``app`` (install those first), and show a
    refused form on its own page (``FormRefused``), whatever the request's ``Accept``."""
    for exc_class in (
        AppError,
        RequestValidationError,
        StarletteHTTPException,
        *OUTAGE_EXCEPTIONS,
        Exception,
    ):
        json_handler = app.exception_handlers[exc_class]
        app.add_exception_handler(exc_class, _negotiating(json_handler))
    app.add_exception_handler(FormRefused, _showing_form(app.exception_handlers[AppError]))
