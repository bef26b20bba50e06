"""One pure ASGI middleware that observes each HTTP request: its id, its log line, its metrics."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from playdeck.auth.client import client_info, is_trusted_proxy
from playdeck.kit.http import HttpMiddleware
from playdeck.observability.metrics import HTTP_DURATION, HTTP_REQUESTS
from playdeck.observability.request_id import HEADER, choose_request_id, set_request_id

access_log = logging.getLogger("playdeck.access")

# Probes and scrapes arrive every few seconds; their lines would drown the rest at INFO.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
UNMATCHED = "<unmatched>"


def route_template(scope: Scope) -> str:
    """``/api/test-runs/{run_id}``, not ``/api/test-runs/42``: labels must stay few."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    mount = scope.get("root_path") or ""  # a mounted app (static files) sets its prefix here
    return f"{mount}/{{path}}" if mount else UNMATCHED


class RequestObservabilityMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp, *, trusted_proxies: list[str]) -> None:
        super().__init__(app)
        self.trusted_proxies = trusted_proxies

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        peer = request.client.host if request.client else ""
        request_id = choose_request_id(
            request.headers.get(HEADER),
            from_trusted_proxy=is_trusted_proxy(peer, self.trusted_proxies),
        )
        set_request_id(request_id)
        status = 500  # what the client gets if the app raises before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"]
            route = route_template(scope)
            HTTP_REQUESTS.labels(method=method, route=route, status=str(status)).inc()
            HTTP_DURATION.labels(method=method, route=route).observe(elapsed)
            path = scope["path"]  # never the query string: it may carry a token
            access_log.log(
                logging.DEBUG if path in QUIET_PATHS else logging.INFO,
                "%s %s %s %.1fms",
                method,
                path,
                status,
                elapsed * 1000,
                extra={
                    "method": method,
                    "path": path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                    "client": client_info(request, self.trusted_proxies).ip,
                },
            )
