"""Where a credential travels: the session cookie, ``Authorization: Bearer``, ``X-API-Key``."""

from __future__ import annotations

from fastapi import Request, Response

from playdeck.auth.client import ClientInfo, client_info
from playdeck.settings import Settings

SESSION_COOKIE = "playdeck_session"
# Over HTTPS the cookie carries the __Host- prefix: browsers then accept it only with Secure,
# Path=/ and no Domain, so a sibling subdomain cannot plant or overwrite it (cookie tossing).
HOST_PREFIX = "__Host-"
API_KEY_HEADER = "x-api-key"
API_KEY_PREFIX = "pd_"
MAX_CREDENTIAL_LENGTH = 4096


def bearer_token(request: Request) -> str | None:
    """The bearer value, or ``None`` when no ``Authorization: Bearer`` header was sent.

    Other schemes (a proxy's Basic auth passed through) are not Playdeck credentials: ignored.
    """
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


class AmbiguousCredentials(Exception):
    """The request carries more than one credential header value; which one counts is unclear."""


def check_single_credential(request: Request) -> None:
    """Refuse a request that presents two credentials in headers: a bearer token together with a
    different ``X-API-Key``, or the same header twice. Deciding by order would let whoever adds
    a header choose the identity. (A cookie alongside a header credential is normal in a
    browser; the header decides, see ``credentials``.)"""
    keys = request.headers.getlist(API_KEY_HEADER)
    authorizations = request.headers.getlist("authorization")
    if len(keys) > 1 or len(authorizations) > 1:
        raise AmbiguousCredentials
    bearer = bearer_token(request)
    if keys and bearer is not None and bearer != keys[0].strip():
        raise AmbiguousCredentials


def presented_api_key(request: Request) -> str | None:
    """An API key from ``X-API-Key`` or a bearer value with the ``pd_`` prefix."""
    header = request.headers.get(API_KEY_HEADER)
    if header is not None:
        return header.strip()
    bearer = bearer_token(request)
    if bearer is not None and bearer.startswith(API_KEY_PREFIX):
        return bearer
    return None


def has_header_credential(request: Request) -> bool:
    return bearer_token(request) is not None or API_KEY_HEADER in request.headers


def cookie_name(name: str, *, secure: bool) -> str:
    """``name`` as sent: with the ``__Host-`` prefix when the cookie is ``Secure``."""
    return HOST_PREFIX + name if secure else name


def cookie_is_secure(request: Request, trusted_proxies: list[str], cookie_secure: bool) -> bool:
    """Whether this request's cookies are the ``Secure`` (``__Host-``) ones: HTTPS, directly or
    through a trusted proxy's ``X-Forwarded-Proto``, or ``PLAYDECK_COOKIE_SECURE``."""
    return cookie_secure or client_info(request, trusted_proxies).is_https


def session_cookie(request: Request, *, secure: bool) -> str | None:
    """The session cookie of the name this request's scheme uses (never the other one: over
    HTTPS a plain ``playdeck_session`` may have been planted by a sibling subdomain)."""
    return request.cookies.get(cookie_name(SESSION_COOKIE, secure=secure))


def cookie_secure(settings: Settings, client: ClientInfo) -> bool:
    """Whether the cookies set for ``client`` are the ``Secure`` (``__Host-``) ones: HTTPS,
    directly or through a trusted proxy, or ``PLAYDECK_COOKIE_SECURE``."""
    return settings.cookie_secure or client.is_https


def set_cookie(response: Response, name: str, value: str, *, max_age: int, secure: bool) -> None:
    """Set one of Playdeck's own cookies (the session, a form's token, a sign-on in flight):
    for the whole site, out of scripts' reach, not sent on cross-site posts; ``__Host-`` and
    ``Secure`` when ``secure``."""
    response.set_cookie(
        cookie_name(name, secure=secure),
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def clear_cookie(response: Response, name: str, *, secure: bool) -> None:
    """Remove a cookie ``set_cookie`` set (the same attributes, or browsers keep it)."""
    response.delete_cookie(
        cookie_name(name, secure=secure), path="/", httponly=True, samesite="lax", secure=secure
    )


def set_session_cookie(response: Response, value: str, *, max_age: int, secure: bool) -> None:
    set_cookie(response, SESSION_COOKIE, value, max_age=max_age, secure=secure)


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    clear_cookie(response, SESSION_COOKIE, secure=secure)
