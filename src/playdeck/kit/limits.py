"""ASGI middleware that bounds request bodies (their size, and how slowly they may arrive),
and the one set of limits a form body is parsed with."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus

import orjson
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from playdeck.kit.http import HttpMiddleware

logger = logging.getLogger("playdeck.limits")


MAX_FORM_FIELDS = 1000
MAX_FORM_FILES = 10_000


async def read_form(request: Request, *, max_part_size: int) -> FormData:
    """The request's form (urlencoded or multipart), parsed with the server's limits.

    Starlette parses a body once and caches the result, so whoever reads it first (the CSRF
    check before the handler, or the handler) must parse it with the same limits: this call.
    """
    return await request.form(
        max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS, max_part_size=max_part_size
    )


class BodyTooLarge(Exception):
    pass


class BodyReadTimeout(HTTPException):
    """Raised from ``receive``: an HTTP error so that FastAPI, which turns other failures while
    reading a body into a 400, passes it on to the problem+json handler as a 408."""

    def __init__(self, detail: str) -> None:
        super().__init__(408, detail, headers={"Connection": "close"})


def _problem_body(status: int, detail: str, code: str) -> bytes:
    return orjson.dumps(
        {
            "type": "about:blank",
            "title": HTTPStatus(status).phrase,
            "status": status,
            "detail": detail,
            "code": code,
        }
    )


async def send_problem(send: Send, status: int, detail: str, code: str) -> None:
    body = _problem_body(status, detail, code)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def call_or_answer(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    refusal: type[Exception],
    answer: Callable[[Send], Awaitable[None]],
) -> None:
    """Run ``app``; when it fails with ``refusal`` before starting a response, ``answer``."""
    response_started = False

    async def tracking_send(message: Message) -> None:
        nonlocal response_started
        if message["type"] == "http.response.start":
            response_started = True
        await send(message)

    try:
        await app(scope, receive, tracking_send)
    except refusal:
        if not response_started:
            await answer(send)


class BodySizeLimitMiddleware(HttpMiddleware):
    """413 from ``Content-Length`` up front, or as soon as a chunked body passes the limit."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_bytes:
                    await self._reject(send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        await call_or_answer(self.app, scope, limited_receive, send, BodyTooLarge, self._reject)

    async def _reject(self, send: Send) -> None:
        limit = self.max_bytes // (1024 * 1024)
        detail = f"Request body exceeds the limit of {limit} MiB"
        await send_problem(send, 413, detail, "payload_too_large")


class BodyReadTimeoutMiddleware(HttpMiddleware):
    """408 for a request body that stalls or trickles.

    Each wait for the next chunk of the body is bounded by ``timeout`` seconds, and the whole
    body must arrive within ``timeout`` plus its size at ``min_rate`` bytes per second, counted
    from the first read. A client that sends part of an upload and stops therefore holds the
    request (and whatever it holds: temporary files, a connection) for at most ``timeout``.
    When the read fails the application sees the exception (Starlette closes the temporary files
    of a half-parsed form, the request's transaction rolls back) and the client gets a 408.
    """

    def __init__(self, app: ASGIApp, *, timeout: float, min_rate: int) -> None:
        super().__init__(app)
        self.timeout = timeout
        self.min_rate = min_rate
        self.detail = (
            f"The request body did not arrive in time (each part within {timeout:g} s, "
            f"at least {min_rate // 1024} KiB/s overall)"
        )

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started: float | None = None
        received = 0
        body_done = False

        async def timed_receive() -> Message:
            nonlocal started, received, body_done
            if body_done:
                return await receive()  # after the body: only a disconnect is left to hear
            now = time.monotonic()
            if started is None:
                started = now
            deadline = started + self.timeout + received / self.min_rate
            wait = min(self.timeout, deadline - now)
            try:
                if wait <= 0:
                    raise TimeoutError
                message = await asyncio.wait_for(receive(), wait)
            except TimeoutError:
                logger.warning(
                    "request body of %s %s timed out after %d bytes",
                    scope.get("method"),
                    scope.get("path"),
                    received,
                )
                raise BodyReadTimeout(self.detail) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        async def answer(send: Send) -> None:
            await send_problem(send, 408, self.detail, "body_timeout")

        # Read outside the routes' error handling (by a middleware): answered here.
        await call_or_answer(self.app, scope, timed_receive, send, BodyReadTimeout, answer)
