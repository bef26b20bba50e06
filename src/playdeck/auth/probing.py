"""429 for a client that collects "not found" answers: someone walking ids.

Hidden objects answer 404 exactly like missing ones, so walking ``/api/test-runs/1, 2, 3...``
tells nothing about other projects, but it still costs the server and it is a sign of someone
looking. Past ``PLAYDECK_NOT_FOUND_RATE_LIMIT`` 404s per client IP the client gets 429 with
``Retry-After`` instead, and the event is logged (``auth.rate_limit``).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from playdeck.auth.client import client_info
from playdeck.auth.rate_limit import RateLimits
from playdeck.errors import TooManyRequests
from playdeck.problems import problem


class NotFoundProbeMiddleware:
    def __init__(self, app: ASGIApp, *, trusted_proxies: Iterable[str] = ()) -> None:
        self.app = app
        self.trusted_proxies = list(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def guarded_send(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the 404's body: the client got the 429 instead
            if message["type"] == "http.response.start" and message["status"] == 404:
                limits: RateLimits = scope["app"].state.rate_limits
                ip = client_info(Request(scope), self.trusted_proxies).ip
                try:
                    await run_in_threadpool(limits.check_not_found, ip=ip)
                except TooManyRequests as exc:
                    replaced = True
                    response = problem(
                        429,
                        "Too many requests for things that do not exist; try again later",
                        code="rate_limited",
                        headers=exc.headers,
                    )
                    await response(scope, receive, send)
                    return
            await send(message)

        await self.app(scope, receive, guarded_send)
