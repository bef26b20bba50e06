"""The TOTP secret at rest: encrypted (Fernet: AES-128-CBC + HMAC-SHA-256) under a key derived
from ``PLAYDECK_SECRET_KEY``, so a copy of the database alone (a backup, a dump) holds no
authenticator anyone could clone.

Rotating ``PLAYDECK_SECRET_KEY`` keeps enrolled authenticators working while the retired key is
listed in ``PLAYDECK_PREVIOUS_SECRET_KEYS``: a secret is read under the current key, then under
each previous one (``MultiFernet``), and always written under the current key. A secret read
under a previous key is ``Opened.stale``; its caller re-encrypts it when it writes anyway (a
sign-in, a confirmation), and ``playdeck two-factor rekey`` does the rest at once. A secret no
key opens stops matching codes (``open`` answers ``None``); its user signs in with a recovery
code, or an administrator resets it (docs/operations.md, "Rotating the secret key").
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from playdeck.auth.sessions import secret_of
from playdeck.settings import Settings

logger = logging.getLogger("playdeck.twofactor")

# Separates this key from every other use of the server secret (JWTs, CSRF, refresh tokens).
KEY_CONTEXT = b"playdeck two-factor secret v1"


def _fernet(server_secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_CONTEXT).derive(
        server_secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


@dataclass(frozen=True, slots=True)
class Opened:
    secret: str
    stale: bool  # encrypted under a previous key: write it again under the current one


class Cipher:
    """The current key, which encrypts and is tried first, and the previous keys, which only
    decrypt."""

    def __init__(self, current: str, previous: tuple[str, ...] = ()) -> None:
        self._current = _fernet(current)
        self._previous = MultiFernet([_fernet(key) for key in previous]) if previous else None

    def encrypt(self, secret: str) -> str:
        return self._current.encrypt(secret.encode("ascii")).decode("ascii")

    def open(self, ciphertext: str) -> Opened | None:
        """The secret and whether it needs re-encrypting, or ``None`` when no key opens it."""
        token = ciphertext.encode("ascii")
        try:
            return Opened(self._current.decrypt(token).decode("ascii"), stale=False)
        except InvalidToken:
            pass
        if self._previous is not None:
            try:
                return Opened(self._previous.decrypt(token).decode("ascii"), stale=True)
            except InvalidToken:
                pass
        logger.warning(
            "a two-factor secret cannot be decrypted under PLAYDECK_SECRET_KEY or "
            "PLAYDECK_PREVIOUS_SECRET_KEYS: was the secret key changed without listing the old one?"
        )
        return None

    def decrypt(self, ciphertext: str) -> str | None:
        opened = self.open(ciphertext)
        return None if opened is None else opened.secret


def of(settings: Settings) -> Cipher:
    return Cipher(
        secret_of(settings),
        tuple(key.get_secret_value() for key in settings.previous_secret_keys),
    )
