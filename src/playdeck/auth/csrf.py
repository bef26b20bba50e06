"""CSRF protection for requests authenticated by the session cookie.

A browser attaches the cookie to any request, including one a hostile page triggers, so an unsafe
request (POST, PUT, PATCH, DELETE) that rides on the cookie must also prove it comes from
Playdeck's own pages:

* a foreign ``Origin`` (or ``Sec-Fetch-Site: cross-site/same-site``) is refused outright, and
* the request must carry the session's CSRF token in the ``X-CSRF-Token`` header or a
  ``csrf_token`` form field. The token is an HMAC of the session's secret id, so it is bound to
  that session, needs no storage, and is useless without the cookie.

Bearer-token and API-key requests need neither: no browser sends those on its own.

One exception keeps the PhenX reporter working: it logs in, replays the cookie and posts to the
two submission endpoints without a token. The routes marked ``@accepts_reporter_cookie`` (the
ingest endpoints) accept a cookie without a token only when the request carries no browser
marker at all (neither ``Origin`` nor ``Sec-Fetch-Site``, which
every current browser sends on cross-site POSTs); SameSite=Lax already keeps the cookie off
cross-site POSTs in every browser that supports it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from fastapi import Request
from starlette.formparsers import MultiPartException

from playdeck.auth.transport import cookie_is_secure, has_header_credential, session_cookie
from playdeck.deps import SettingsDep
from playdeck.errors import BadRequest, Forbidden
from playdeck.kit.http import SAFE_METHODS
from playdeck.kit.limits import read_form

CSRF_HEADER = "x-csrf-token"
CSRF_FORM_FIELD = "csrf_token"
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Set on an endpoint by ``accepts_reporter_cookie``; read from the matched route.
REPORTER_COOKIE_MARK = "playdeck_accepts_reporter_cookie"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def accepts_reporter_cookie(endpoint: Endpoint) -> Endpoint:
    """Mark a route that the PhenX reporter posts to with its login cookie and no CSRF token
    (see the module docstring): a request there with no browser marker needs no token."""
    setattr(endpoint, REPORTER_COOKIE_MARK, True)
    return endpoint


def _accepts_reporter_cookie(request: Request) -> bool:
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    return getattr(endpoint, REPORTER_COOKIE_MARK, False) is True


def csrf_token(*, secret_key: str, session_secret: str) -> str:
    key = hmac.new(secret_key.encode(), b"playdeck csrf v1", hashlib.sha256).digest()
    mac = hmac.new(key, session_secret.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def is_browser_request(request: Request) -> bool:
    return "origin" in request.headers or "sec-fetch-site" in request.headers


def needs_token(request: Request) -> bool:
    if request.method in SAFE_METHODS:
        return False
    return is_browser_request(request) or not _accepts_reporter_cookie(request)


def _netloc(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return parts.netloc.lower()


def check_origin(request: Request, *, public_url: str | None) -> None:
    """Refuse an unsafe cookie request that a browser says comes from another site."""
    origin = request.headers.get("origin")
    if origin is not None:
        allowed = {request.headers.get("host", "").lower()}
        if public_url:
            allowed.add(_netloc(public_url) or "")
        if _netloc(origin) not in allowed - {""}:
            raise Forbidden("Cross-origin request refused", code="csrf_origin")
        return
    site = request.headers.get("sec-fetch-site")
    if site is not None and site.lower() not in ("same-origin", "none"):
        raise Forbidden("Cross-site request refused", code="csrf_origin")


def check_token(*, expected: str, submitted: str | None) -> None:
    if not submitted or not hmac.compare_digest(submitted.encode(), expected.encode()):
        raise Forbidden(
            "Missing or invalid CSRF token (send it in the X-CSRF-Token header)",
            code="csrf_token",
        )


async def submitted_token(request: Request, settings: SettingsDep) -> str | None:
    """The CSRF token a cookie-authenticated unsafe request sent, read before the handler runs.

    Async because the form field needs the body; it is parsed only when no header was sent.
    """
    if not settings.require_auth or not needs_token(request):
        return None
    secure = cookie_is_secure(request, settings.trusted_proxies, settings.cookie_secure)
    if session_cookie(request, secure=secure) is None:
        return None
    if has_header_credential(request):
        return None  # the bearer credential wins; the cookie is not what authenticates
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in FORM_TYPES:
        return None
    try:
        form = await read_form(request, max_part_size=settings.max_upload_bytes)
    except MultiPartException as exc:
        raise BadRequest(f"Malformed form body: {exc.message}", code="malformed_form") from exc
    value = form.get(CSRF_FORM_FIELD)
    return value if isinstance(value, str) else None
