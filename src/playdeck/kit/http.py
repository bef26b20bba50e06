"""HTTP's own words, defined once."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

# RFC 9110 section 9.2.1: methods that ask for no change. They need no CSRF token and run on
# the read-only database engine where one is configured.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def base_url(request: Request, public_url: str | None) -> str:
    """The base of the links an answer holds, without a trailing slash: the configured public
    URL, else the one the request came to."""
    return (public_url or str(request.base_url)).rstrip("/")


class HttpMiddleware:
    """An ASGI middleware of HTTP requests: ``handle`` sees each of them; anything else (the
    lifespan, a websocket) goes to the app untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError
