"""The id of the request being served, for response headers and every log line.

A proxy's ``X-Request-ID`` is kept only when the proxy is one of ``PLAYDECK_TRUSTED_PROXIES``
and the value looks like an id; otherwise anyone could write what they like into the logs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEADER = "X-Request-ID"
_ACCEPTABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_current: ContextVar[str | None] = ContextVar("playdeck_request_id", default=None)


def current_request_id() -> str | None:
    return _current.get()


def set_request_id(request_id: str) -> None:
    # Not reset when the request ends: Starlette renders an unhandled error's 500 after the
    # middleware has returned, in the same task, and that response and log line need the id too.
    # Each request runs in its own task, so nothing leaks into the next one.
    _current.set(request_id)


@contextmanager
def serving_request(request_id: str | None) -> Iterator[None]:
    """Work done in another process for a request (an ingest worker's job) logs with its id, for
    the block only: a worker runs one job after another in one thread, and the next job, or a
    line logged between jobs, must not carry this one's id."""
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)


def choose_request_id(offered: str | None, *, from_trusted_proxy: bool) -> str:
    if offered and from_trusted_proxy and _ACCEPTABLE.fullmatch(offered):
        return offered
    return uuid.uuid4().hex
