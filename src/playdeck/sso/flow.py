"""The sign-in in flight: ``state``, ``nonce``, the PKCE verifier and where to go afterwards,
kept between the redirect to the provider and its callback in a short-lived cookie, signed with
a key derived from ``PLAYDECK_SECRET_KEY`` (so it cannot be forged or edited) and bound to this
purpose (no other Playdeck token is accepted as one).

The cookie is ``HttpOnly`` and ``SameSite=Lax`` (the provider's redirect back is a top-level
GET, which Lax lets through). It holds the verifier in the clear for the browser that started
the sign-in, as Authlib's own web integrations keep it in a signed session cookie: PKCE guards
the code against whoever intercepts the redirect, not against the browser that made it.

A sign-in that accepts an invitation carries the invitation's key (the SHA-256 of its token,
``invitations.service.invitation_key``) in the same signed cookie, bound to this ``state``: the
provider's redirect back carries only ``state`` and ``code``, never the invitation.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

import jwt

from playdeck.kit.clock import utcnow
from playdeck.sso.client import Pending, SignOnRefused

FLOW_COOKIE = "playdeck_sso"
FLOW_LIFETIME = timedelta(minutes=10)
AUDIENCE = "playdeck:sso-flow"
MAX_NEXT = 2000


def _key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"playdeck sso flow cookie", hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Flow:
    """A sign-in in flight, as its cookie keeps it."""

    pending: Pending
    next_path: str | None = None
    invitation: str | None = None  # the key of the invitation this sign-in accepts


def seal(flow: Flow, *, secret_key: str) -> str:
    pending = flow.pending
    now = utcnow()
    claims = {
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + FLOW_LIFETIME).timestamp()),
        "prv": pending.provider,
        "st": pending.state,
        "nc": pending.nonce,
        "cv": pending.code_verifier,
        "nx": flow.next_path,
        "iv": flow.invitation,
    }
    return jwt.encode(claims, _key(secret_key), algorithm="HS256")


def _started_elsewhere() -> SignOnRefused:
    return SignOnRefused(
        "This sign-in was not started in this browser, or took too long; start again.",
        code="sso_state_mismatch",
    )


def unseal(value: str | None, *, provider: str, secret_key: str) -> Flow:
    """The sign-in in flight through ``provider``; refused when the cookie is missing,
    expired, forged, or belongs to a sign-in through another provider."""
    if not value or len(value) > 4096:
        raise _started_elsewhere()
    try:
        claims = jwt.decode(value, _key(secret_key), algorithms=["HS256"], audience=AUDIENCE)
    except jwt.PyJWTError:
        raise _started_elsewhere() from None
    try:
        pending = Pending(
            provider=str(claims["prv"]),
            state=str(claims["st"]),
            nonce=str(claims["nc"]),
            code_verifier=str(claims["cv"]),
        )
    except KeyError:
        raise _started_elsewhere() from None
    if pending.provider != provider:
        raise _started_elsewhere()
    next_path, invitation = claims.get("nx"), claims.get("iv")
    return Flow(
        pending=pending,
        next_path=next_path if isinstance(next_path, str) else None,
        invitation=invitation if isinstance(invitation, str) else None,
    )
