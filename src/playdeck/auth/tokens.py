"""Access tokens (JWT, HS256) and opaque secrets (refresh tokens, session ids).

Access tokens are short-lived JWTs signed with the server secret. Only HS256 is accepted, every
claim the server relies on is required (PyJWT accepts a token without ``exp`` unless told), and
the ``type`` claim keeps any other token the secret might sign from passing as an access token.
Opaque secrets are 256-bit random strings; the database only ever holds their SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from playdeck.kit.clock import utcnow

ALGORITHM = "HS256"
ISSUER = "playdeck"
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret
REQUIRED_CLAIMS = ("sub", "exp", "iat", "jti", "type", "sid", "iss")
REFRESH_TOKEN_PREFIX = "pdr_"  # noqa: S105 - lets secret scanners recognise leaked tokens


class InvalidToken(Exception):
    """The token is malformed, expired, forged or of the wrong kind (the reason stays internal)."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    session_id: str  # the session's public id
    issued_at: int
    token_id: str


def issue_access_token(
    *, secret: str, user_id: int, session_id: str, lifetime: timedelta
) -> tuple[str, datetime]:
    """A signed access token and its expiry."""
    now = utcnow()
    expires = now + lifetime
    claims = {
        "iss": ISSUER,
        "sub": str(user_id),
        "sid": session_id,
        "type": ACCESS_TOKEN_TYPE,
        "jti": secrets.token_hex(16),
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires


def decode_access_token(token: str, *, secret: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from exc
    if claims.get("type") != ACCESS_TOKEN_TYPE:
        raise InvalidToken("wrong token type")
    sub, sid, iat, jti = claims["sub"], claims["sid"], claims["iat"], claims["jti"]
    if not (isinstance(sub, str) and sub.isascii() and sub.isdigit()):
        raise InvalidToken("malformed sub")
    if not isinstance(sid, str) or not 0 < len(sid) <= 64 or not isinstance(jti, str):
        raise InvalidToken("malformed sid or jti")
    return AccessClaims(user_id=int(sub), session_id=sid, issued_at=int(iat), token_id=jti)


def new_public_id() -> str:
    return secrets.token_hex(16)


def new_session_secret() -> str:
    return secrets.token_urlsafe(32)


def new_refresh_token() -> str:
    return REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)


def successor_refresh_token(*, secret: str, predecessor: str) -> str:
    """The refresh token that rotating ``predecessor`` issues, derived rather than drawn.

    Deterministic, so a benign double send within the reuse grace gets the very same successor
    (no second branch of the family), and unguessable without both the predecessor and the
    server secret (HMAC-SHA-256, 256 bits).
    """
    key = hmac.new(secret.encode(), b"playdeck refresh successor v1", hashlib.sha256).digest()
    mac = hmac.new(key, predecessor.encode(), hashlib.sha256).digest()
    return REFRESH_TOKEN_PREFIX + base64.urlsafe_b64encode(mac).decode().rstrip("=")


def hash_secret(value: str) -> str:
    """SHA-256 hex of a high-entropy secret (no salt or stretching needed at 256 bits)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
