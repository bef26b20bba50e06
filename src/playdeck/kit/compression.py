"""gzip for what Playdeck writes (pages, API JSON, its CSS and JS), not for stored files.

A run page is ~80 KB of HTML that gzip takes to ~8 KB. Stored files (attachments, report
files) pass untouched whatever their type: most are compressed already (PNG, zip traces,
WebM), they are streamed with a ``Content-Length`` and a strong ``ETag`` of their bytes that
a re-encoding would make wrong, and range requests on them must see the bytes as stored.
Starlette's ``GZipMiddleware`` already skips small bodies, ``206`` answers, responses that
carry a ``Content-Encoding`` and compressed media types.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

MINIMUM_SIZE = 1024
# Level 6 gets within a few per cent of level 9's size for a fraction of the CPU.
LEVEL = 6


class CompressionMiddleware:
    def __init__(self, app: ASGIApp, *, skip_prefixes: Sequence[str]) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=MINIMUM_SIZE, compresslevel=LEVEL)
        self.skip_prefixes = tuple(skip_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(self.skip_prefixes):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
