"""Stored TOTP secrets moved to the current ``PLAYDECK_SECRET_KEY`` after a rotation, one at
a time as they are used (``renew``, in the transaction of the sign-in that proved a right code)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from playdeck.twofactor import repository
from playdeck.twofactor.cipher import Cipher, Opened


def renew(
    session: Session, box: Cipher, *, authenticator_id: int, ciphertext: str, opened: Opened
) -> None:
    """Write a secret read under a previous key again under the current one."""
    if opened.stale:
        repository.replace_ciphertext(
            session, authenticator_id, old=ciphertext, new=box.encrypt(opened.secret)
        )
