"""Security headers for HTML pages: a strict Content-Security-Policy and its companions.

The policy allows scripts, styles and images from Playdeck's own origin only, so an injected
``<script>`` or ``style`` attribute does nothing even if escaping ever failed; report text is
escaped anyway. Responses that set their own policy (stored report files are served with
``sandbox``) keep it.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def add_page_headers(headers: MutableHeaders) -> None:
    """Add the page headers a response does not set itself."""
    if "content-security-policy" in headers:
        # The response chose its own policy (a sandboxed report file): only add the safe extras.
        headers.setdefault("X-Content-Type-Options", "nosniff")
        return
    for name, value in PAGE_HEADERS.items():
        headers.setdefault(name, value)


class SecurityHeadersMiddleware:
    """Adds ``PAGE_HEADERS`` to every ``text/html`` response, ``nosniff`` to every response.

    Pure ASGI (no ``BaseHTTPMiddleware``), so streamed file downloads pass through untouched.
    ``skip_paths`` are HTML pages with their own needs (the OpenAPI UI loads its scripts from a
    CDN and runs inline script).
    """

    def __init__(self, app: ASGIApp, *, skip_paths: Iterable[str] = ()) -> None:
        self.app = app
        self.skip_paths = frozenset(skip_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.skip_paths:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").lower().startswith("text/html"):
                    add_page_headers(headers)
                else:
                    headers.setdefault("X-Content-Type-Options", "nosniff")
            await send(message)

        await self.app(scope, receive, send_with_headers)
