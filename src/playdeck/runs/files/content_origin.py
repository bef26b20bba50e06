"""A separate origin for uploaded HTML (``PLAYDECK_CONTENT_URL``), the pattern of GitHub's
``*.githubusercontent.com``.

Served from another host, a report cannot pass for a Playdeck page at all, and nothing it runs
shares an origin (or cookies) with Playdeck. The content host has no sessions: Playdeck's viewer,
after checking the reader may see the report, frames a *capability URL*

    {content_url}/usercontent/{kind}.{id}.{expires}.{mac}/{path}

where ``mac`` is an HMAC-SHA-256 (under a key derived from the secret) of the rest. It opens that
one report (any file under it, so the report's relative links work) or that one attachment, until
it expires; the content route answers only on the content host.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from fastapi import Request

from playdeck.settings import Settings

CONTENT_PREFIX = "/usercontent"
GRANT_SECONDS = 3600
Kind = Literal["report", "attachment"]
KINDS: tuple[Kind, ...] = ("report", "attachment")
# Without a configured secret (authentication off) grants are signed with a per-process key.
_PROCESS_KEY = secrets.token_bytes(32)


@dataclass(frozen=True, slots=True)
class Grant:
    kind: Kind
    id: int
    expires: int


def _key(settings: Settings) -> bytes:
    if settings.secret_key is None:
        return _PROCESS_KEY
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, b"playdeck user content v1", hashlib.sha256).digest()


def _mac(settings: Settings, payload: str) -> str:
    digest = hmac.new(_key(settings), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(settings: Settings, kind: Kind, object_id: int, *, now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + GRANT_SECONDS)
    payload = f"{kind}.{object_id}.{expires}"
    return f"{payload}.{_mac(settings, payload)}"


def verify(settings: Settings, token: str, *, now: float | None = None) -> Grant | None:
    parts = token.split(".")
    if len(parts) != 4:
        return None
    kind, raw_id, raw_expires, mac = parts
    if not hmac.compare_digest(mac.encode(), _mac(settings, ".".join(parts[:3])).encode()):
        return None
    if kind not in KINDS or not raw_id.isdigit() or not raw_expires.isdigit():
        return None
    if int(raw_expires) < (time.time() if now is None else now):
        return None
    return Grant(
        kind="report" if kind == "report" else "attachment",
        id=int(raw_id),
        expires=int(raw_expires),
    )


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_base(settings: Settings, token: str) -> str:
    """Where a grant's files live on the content host (its CSP's ``self``, in effect)."""
    assert settings.content_url is not None
    return f"{settings.content_url.rstrip('/')}{CONTENT_PREFIX}/{token}/"


def content_url_for(settings: Settings, kind: Kind, object_id: int, path: str) -> str | None:
    """The capability URL of a report file or attachment, ``None`` without a content origin."""
    if settings.content_url is None:
        return None
    return content_base(settings, sign(settings, kind, object_id)) + path


def on_content_host(request: Request, settings: Settings) -> bool:
    if settings.content_url is None:
        return False
    expected = urlsplit(settings.content_url).netloc.lower()
    return request.headers.get("host", "").lower() == expected
