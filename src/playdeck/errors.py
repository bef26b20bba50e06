"""Domain errors: a refusal carries its status and stable ``code`` (``AppError``), and
``outage_error`` tells a lost database or a full disk from a bug.

No web framework here: services, the CLI and the ingest worker process raise these without
FastAPI; ``playdeck.problems`` renders them as RFC 9457 problem details.
"""

from __future__ import annotations

import errno
from typing import Any, Self

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError


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
