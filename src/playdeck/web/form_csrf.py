"""CSRF protection for the forms that run before a session exists: sign in, setup, register.

A session form proves itself with the session's CSRF token (``auth.csrf``). These forms have no
session yet, and still need protecting: a hostile page could post its own credentials to
``/login`` and leave the victim signed in to the attacker's account ("login CSRF"), then read
whatever the victim uploads or types. Two checks, both required:

* **Origin**: an ``Origin`` other than this server (or ``Sec-Fetch-Site: cross-site |
  same-site``) is refused, the same check ``auth.csrf.check_origin`` makes for cookie requests.
* **Signed double-submit cookie**: showing the form sets ``playdeck_form_csrf`` to a random value
  (HttpOnly, SameSite=Lax) and puts an HMAC of that value, keyed from ``PLAYDECK_SECRET_KEY``,
  into the form's ``csrf_token`` field. A post must bring both and they must match. A foreign
  page can neither read the cookie nor compute the HMAC, and a cookie planted from a sibling
  domain is still refused by the Origin check.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from fastapi import Request, Response

from playdeck.auth import transport
from playdeck.auth.client import ClientInfo
from playdeck.auth.csrf import check_origin
from playdeck.auth.sessions import secret_of
from playdeck.auth.transport import cookie_is_secure, cookie_name, cookie_secure
from playdeck.errors import Forbidden
from playdeck.settings import Settings

FORM_COOKIE = "playdeck_form_csrf"
FORM_COOKIE_MAX_AGE = 12 * 60 * 60
# Cookie values this module wrote: 32 random bytes, base64url without padding.
NONCE_LENGTH = 43
EXPIRED_FORM = "This form has expired or did not come from this site. Please try again."


def _secure(request: Request, settings: Settings) -> bool:
    return cookie_is_secure(request, settings.trusted_proxies, settings.cookie_secure)


def _nonce_of(request: Request, settings: Settings) -> str | None:
    value = request.cookies.get(cookie_name(FORM_COOKIE, secure=_secure(request, settings)))
    if value is None or len(value) != NONCE_LENGTH:
        return None
    return value


def _sign(settings: Settings, nonce: str) -> str:
    key = hmac.new(secret_of(settings).encode(), b"playdeck form csrf v1", hashlib.sha256).digest()
    mac = hmac.new(key, nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def issue(request: Request, settings: Settings) -> tuple[str, str]:
    """The ``(cookie value, form token)`` pair for a form about to be shown.

    An existing cookie is kept, so two open tabs (sign in, register) both keep working.
    """
    nonce = _nonce_of(request, settings) or secrets.token_urlsafe(32)
    return nonce, _sign(settings, nonce)


def set_cookie(response: Response, nonce: str, *, client: ClientInfo, settings: Settings) -> None:
    secure = cookie_secure(settings, client)
    transport.set_cookie(response, FORM_COOKIE, nonce, max_age=FORM_COOKIE_MAX_AGE, secure=secure)


def clear_cookie(response: Response, *, client: ClientInfo, settings: Settings) -> None:
    transport.clear_cookie(response, FORM_COOKIE, secure=cookie_secure(settings, client))


def check(request: Request, settings: Settings, submitted: str) -> None:
    """Raise ``Forbidden`` unless the post comes from this site and echoes the cookie's token."""
    check_origin(request, public_url=settings.public_url)
    nonce = _nonce_of(request, settings)
    if nonce is None or not submitted:
        raise Forbidden(EXPIRED_FORM, code="csrf_token")
    expected = _sign(settings, nonce).encode()
    if not hmac.compare_digest(submitted.encode("utf-8", "replace"), expected):
        raise Forbidden(EXPIRED_FORM, code="csrf_token")
