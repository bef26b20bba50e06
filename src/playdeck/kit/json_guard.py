"""ASGI middleware that refuses JSON request bodies with a key given twice in one object.

``{"role": "user", "role": "admin"}`` means whatever the parser that reads it decides (Python
and JavaScript keep the last value, some proxies and validators the first). Where a body says
who may do what, such a difference between two parsers is an attack, so API bodies with a
duplicate key are refused with a 422 before any route sees them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from playdeck.kit.limits import send_problem

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class DuplicateKey(ValueError):
    pass


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(key)
        result[key] = value
    return result


def duplicate_key(body: bytes) -> str | None:
    """The first key given twice in one object of ``body``, if any. Bodies that are not valid
    JSON are left to the route to refuse."""
    try:
        json.loads(body, object_pairs_hook=_refuse_duplicates)
    except DuplicateKey as exc:
        return str(exc)
    except (ValueError, RecursionError):
        return None
    return None


def _is_json(scope: Scope) -> bool:
    content_type = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or content_type.endswith("+json")


class DuplicateJsonKeysMiddleware:
    """Buffers JSON bodies of unsafe requests (their size is already bounded) and refuses one
    with a duplicate key; ``skip_paths`` (and paths ``skip_path`` says yes to) are report
    uploads, parsed as reports (last value wins, as in the JavaScript tools that write them),
    where no permission depends on a key."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        skip_paths: Iterable[str] = (),
        skip_path: Callable[[str], bool] = lambda _path: False,
    ) -> None:
        self.app = app
        self.skip_paths = frozenset(skip_paths)
        self.skip_path = skip_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in UNSAFE_METHODS
            or scope["path"] in self.skip_paths
            or self.skip_path(scope["path"])
            or not _is_json(scope)
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: let the app hear it
                await self.app(scope, _replay(message, receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        key = duplicate_key(body)
        if key is not None:
            detail = f"JSON key {key[:100]!r} appears twice in one object"
            await send_problem(send, 422, detail, "duplicate_json_key")
            return
        whole: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay(whole, receive), send)


def _replay(first: Message, receive: Receive) -> Receive:
    """A ``receive`` that hands out ``first`` once, then the real channel."""
    pending = [first]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
