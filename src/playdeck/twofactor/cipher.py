"""The TOTP secret at rest: encrypted (Fernet: AES-128-CBC + HMAC-SHA-256) under a key derived
from ``PLAYDECK_SECRET_KEY``, so a copy of the database alone (a backup, a dump) holds no
authenticator anyone could clone.

Changing ``PLAYDECK_SECRET_KEY`` makes the stored secrets unreadable: their codes stop matching
(``decrypt`` answers ``None``) and their users sign in with a recovery code, then enrol again
(docs/security.md, "Two-factor authentication").
"""

from __future__ import annotations

import base64
import logging

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

logger = logging.getLogger("playdeck.twofactor")

# Separates this key from every other use of the server secret (JWTs, CSRF, refresh tokens).
KEY_CONTEXT = b"playdeck two-factor secret v1"


def _fernet(server_secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_CONTEXT).derive(
        server_secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret: str, *, server_secret: str) -> str:
    return _fernet(server_secret).encrypt(secret.encode("ascii")).decode("ascii")


def decrypt(ciphertext: str, *, server_secret: str) -> str | None:
    """The secret, or ``None`` when it was encrypted under another server secret."""
    try:
        return _fernet(server_secret).decrypt(ciphertext.encode("ascii")).decode("ascii")
    except InvalidToken:
        logger.warning("a two-factor secret cannot be decrypted: was PLAYDECK_SECRET_KEY changed?")
        return None
