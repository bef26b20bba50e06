"""Request size limits: ASGI middleware that refuses request bodies over a size limit without
reading them whole, and the one set of limits a form body is parsed with."""

from __future__ import annotations

import orjson
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


def _problem_body(limit: int) -> bytes:
    return orjson.dumps(
        {
            "type": "about:blank",
            "title": "Content Too Large",
            "status": 413,
            "detail": f"Request body exceeds the limit of {limit // (1024 * 1024)} MiB",
            "code": "payload_too_large",
        }
    )


class BodySizeLimitMiddleware:
    """413 from ``Content-Length`` up front, or as soon as a chunked body passes the limit."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
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
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = _problem_body(self.max_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
