"""Security headers: a strict Content-Security-Policy for HTML pages and its companions, HSTS
over HTTPS, and ``Cache-Control: no-store`` for pages and JSON.

The policy allows scripts, styles and images from Playdeck's own origin only, so an injected
``<script>`` or ``style`` attribute does nothing even if escaping ever failed; report text is
escaped anyway. Responses that set their own policy (stored report files are served with
``sandbox``, the API docs with theirs) keep it.

Pages and JSON answers hold what a signed-in user may see; ``no-store`` keeps them out of shared
and back-button caches. Responses that chose their own caching (stored files: ``private,
no-cache`` with an ETag; static assets) keep it.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from playdeck.auth.client import client_info

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


def page_headers(form_targets: Iterable[str] = ()) -> dict[str, str]:
    """``PAGE_HEADERS``, with ``form-action`` also allowing ``form_targets`` (origins): the
    sign-out form's redirect to a single-sign-on provider's logout (RP-initiated logout), which
    browsers check against ``form-action`` too."""
    extra = "".join(f" {origin}" for origin in sorted(set(form_targets)))
    if not extra:
        return PAGE_HEADERS
    policy = PAGE_CSP.replace("form-action 'self'", f"form-action 'self'{extra}")
    return {**PAGE_HEADERS, "Content-Security-Policy": policy}


# A year, the usual minimum for preload lists; not includeSubDomains: other services may share
# the parent domain.
HSTS = "max-age=31536000"
NO_STORE_TYPES = ("text/html", "application/json", "application/problem+json")


def add_page_headers(headers: MutableHeaders, defaults: dict[str, str] = PAGE_HEADERS) -> None:
    """Add the page headers (``defaults``) a response does not set itself."""
    if "content-security-policy" in headers:
        # The response chose its own policy (a sandboxed report file): only add the safe extras.
        headers.setdefault("X-Content-Type-Options", "nosniff")
        return
    for name, value in defaults.items():
        headers.setdefault(name, value)


class SecurityHeadersMiddleware:
    """Adds ``PAGE_HEADERS`` to every ``text/html`` response, ``nosniff`` to every response,
    ``Strict-Transport-Security`` to every HTTPS response (directly, or through a trusted
    proxy's ``X-Forwarded-Proto``), and ``Cache-Control: no-store`` to HTML and JSON that set no
    caching of their own.

    Pure ASGI (no ``BaseHTTPMiddleware``), so streamed file downloads pass through untouched.
    ``skip_paths`` get none of the page headers.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        skip_paths: Iterable[str] = (),
        trusted_proxies: Iterable[str] = (),
        form_targets: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.page_headers = page_headers(form_targets)
        self.skip_paths = frozenset(skip_paths)
        self.trusted_proxies = list(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.skip_paths:
            await self.app(scope, receive, send)
            return

        https = client_info(Request(scope), self.trusted_proxies).is_https

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                content_type = headers.get("content-type", "").lower()
                if content_type.startswith("text/html"):
                    add_page_headers(headers, self.page_headers)
                else:
                    headers.setdefault("X-Content-Type-Options", "nosniff")
                if content_type.startswith(NO_STORE_TYPES):
                    headers.setdefault("Cache-Control", "no-store")
                if https:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)
