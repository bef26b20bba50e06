"""Domain errors and their RFC 9457 problem-details rendering.

Every error response has the same shape: ``{"type", "title", "status", "detail", "code"}`` plus
``errors`` for validation failures. ``code`` is stable and meant for programs; ``detail`` is for
people. A stack trace never reaches a response.
"""

from __future__ import annotations

import errno
import logging
from http import HTTPStatus
from typing import Any, Self

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError, StatementError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from playdeck.kit.text import UnstorableText
from playdeck.observability.request_id import HEADER as REQUEST_ID_HEADER
from playdeck.observability.request_id import current_request_id

logger = logging.getLogger("playdeck.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"


class OrjsonResponse(JSONResponse):
    """JSON rendered by orjson (for bodies built by hand rather than by a response model)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class AppError(Exception):
    """A refusal with its status and stable ``code``.

    ``commit`` says what becomes of the request's transaction (``db.get_session`` decides, and
    nothing else): by default everything the refused request flushed is rolled back; a refusal
    that must leave a trace (a failed login's counter and audit event, a revoked token family)
    is raised with ``commit=True`` and commits what was flushed before it.
    """

    status: int = 400
    code: str = "bad_request"
    commit: bool = False

    def __init_subclass__(
        cls, *, status: int | None = None, code: str | None = None, **kwargs: Any
    ) -> None:
        """A subclass names its status and code once, in its header."""
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status
        if code is not None:
            cls.code = code

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        commit: bool | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        if commit is not None:
            self.commit = commit
        self.headers = headers or {}
        self.extra = extra or {}

    def recorded(self) -> Self:
        """This refusal, marked to commit what the request recorded before it."""
        self.commit = True
        return self


class BadRequest(AppError, status=400, code="bad_request"): ...


class InvalidInput(AppError, status=422, code="invalid_input"): ...


class Unauthorized(AppError, status=401, code="unauthorized"):
    def __init__(self, detail: str = "Authentication required", **kwargs: Any) -> None:
        headers = kwargs.pop("headers", None) or {}
        headers.setdefault("WWW-Authenticate", "Bearer")
        super().__init__(detail, headers=headers, **kwargs)


class Forbidden(AppError, status=403, code="forbidden"): ...


class NotFound(AppError, status=404, code="not_found"): ...


class Conflict(AppError, status=409, code="conflict"): ...


class PayloadTooLarge(AppError, status=413, code="payload_too_large"): ...


class Locked(AppError, status=423, code="account_locked"): ...


class TooManyRequests(AppError, status=429, code="rate_limited"): ...


class ServiceUnavailable(AppError, status=503, code="service_unavailable"): ...


class InsufficientStorage(AppError, status=507, code="insufficient_storage"): ...


# Seconds a client should wait before retrying after an outage answer.
RETRY_AFTER_SECONDS = 5
# Exceptions that may be an outage rather than a bug: ``outage_error`` tells them apart.
OUTAGE_EXCEPTIONS: tuple[type[Exception], ...] = (DBAPIError, PoolTimeoutError, OSError)
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def outage_error(exc: BaseException) -> AppError | None:
    """The answer for an exception that means "the database or the disk cannot serve now",
    ``None`` for anything else (a bug: 500).

    A lost or locked database is a 503 with ``Retry-After`` (clients and load balancers retry
    it); a full disk, for the database or the stored files, is a 507.
    """
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL:
        return InsufficientStorage("The server has no space left to store this; nothing was kept")
    if isinstance(exc, PoolTimeoutError):
        return _retry_later("The database is busy", code="database_busy")
    if isinstance(exc, DBAPIError):
        message = str(exc.orig).lower()
        if "disk is full" in message or "no space left" in message:
            return InsufficientStorage("The database has no space left; nothing was kept")
        if "database is locked" in message:
            return _retry_later("The database is busy", code="database_busy")
        if exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)):
            return _retry_later("The database is unavailable", code="database_unavailable")
    return None


def _retry_later(state: str, *, code: str) -> ServiceUnavailable:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return ServiceUnavailable(f"{state}; try again shortly", code=code, headers=headers)


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
