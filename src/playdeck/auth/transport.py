"""Where a credential travels: the session cookie, ``Authorization: Bearer``, ``X-API-Key``."""

from __future__ import annotations

from fastapi import Request, Response

SESSION_COOKIE = "playdeck_session"
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


def set_session_cookie(response: Response, value: str, *, max_age: int, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
