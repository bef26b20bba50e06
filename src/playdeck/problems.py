"""RFC 9457 problem details: how every refusal and failure is answered over HTTP.

Every error response has the same shape: ``{"type", "title", "status", "detail", "code"}`` plus
``errors`` for validation failures. ``code`` is stable and meant for programs; ``detail`` is for
people. A stack trace never reaches a response. The errors themselves are in
``playdeck.errors``, which imports no web framework.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from playdeck.errors import (
    OUTAGE_EXCEPTIONS,
    AppError,
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    outage_error,
)
from playdeck.kit.text import UnstorableText
from playdeck.observability.request_id import HEADER as REQUEST_ID_HEADER
from playdeck.observability.request_id import current_request_id

logger = logging.getLogger("playdeck.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"


class OrjsonResponse(JSONResponse):
    """JSON rendered by orjson (for bodies built by hand rather than by a response model)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem(
    status: int,
    detail: str,
    *,
    code: str,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> OrjsonResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if extra:
        body.update(extra)
    return OrjsonResponse(
        body, status_code=status, headers=headers, media_type=PROBLEM_CONTENT_TYPE
    )


# The code of an HTTP error raised by Starlette (a route not found, a wrong method): the one its
# ``AppError`` has, where there is one.
_STATUS_CODES = {
    error.status: error.code
    for error in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PayloadTooLarge,
        InvalidInput,
        TooManyRequests,
    )
} | {
    405: "method_not_allowed",
    406: "not_acceptable",
    408: "body_timeout",
    415: "unsupported_media_type",
}


def _json_safe(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return str(value)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_request: Request, exc: AppError) -> OrjsonResponse:
        return problem(exc.status, exc.detail, code=exc.code, headers=exc.headers, extra=exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> OrjsonResponse:
        errors = [
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "msg": str(err.get("msg", "")),
                "type": str(err.get("type", "")),
            }
            for err in exc.errors()
        ]
        fields = ", ".join(".".join(e["loc"]) for e in errors[:5])
        return problem(
            422,
            f"Request validation failed: {fields}" if fields else "Request validation failed",
            code="invalid_input",
            extra={"errors": _json_safe(errors)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> OrjsonResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem(
            exc.status_code,
            detail,
            code=_STATUS_CODES.get(exc.status_code, "error"),
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(UnstorableText)
    async def _unstorable(_request: Request, _exc: UnstorableText) -> OrjsonResponse:
        return _unstorable_problem()

    @app.exception_handler(StatementError)
    async def _statement_error(request: Request, exc: StatementError) -> OrjsonResponse:
        # Raised while binding parameters (a JSON value that cannot be stored), or the database
        # refused a value (a number out of range, text it cannot hold): the request's fault,
        # and its transaction is rolled back. Anything else is a real failure.
        if isinstance(exc.orig, UnstorableText):
            return _unstorable_problem()
        if isinstance(exc, DataError):
            logger.info(
                "database refused a value on %s %s: %s", request.method, request.url.path, exc.orig
            )
            return problem(
                422,
                "The request holds a value the database cannot store or compare",
                code="invalid_value",
            )
        return _internal_error(request, exc)

    async def _outage(request: Request, exc: Exception) -> OrjsonResponse:
        error = outage_error(exc)
        if error is None:
            if isinstance(exc, StatementError):  # DBAPIError is one: a refused value, say
                return await _statement_error(request, exc)
            return await _unexpected(request, exc)
        logger.warning(
            "%s on %s %s: %s", error.code, request.method, request.url.path, exc.__class__.__name__
        )
        return await _app_error(request, error)

    for outage_class in OUTAGE_EXCEPTIONS:
        app.add_exception_handler(outage_class, _outage)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> OrjsonResponse:
        return _internal_error(request, exc)


def _unstorable_problem() -> OrjsonResponse:
    return problem(
        422,
        "The request holds text that cannot be stored: a NUL character or invalid Unicode",
        code="unstorable_text",
    )


def _internal_error(request: Request, exc: Exception) -> OrjsonResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    # Rendered outside every middleware (Starlette's ServerErrorMiddleware): the request id
    # middleware cannot add its header to this response, so it is added here.
    request_id = current_request_id()
    headers = {REQUEST_ID_HEADER: request_id} if request_id else None
    return problem(500, "Internal server error", code="internal_error", headers=headers)
