"""Two-factor authentication: a user's TOTP authenticator, their recovery codes, and the
challenges of sign-ins waiting for their second factor.

Nothing here can be used as it is stored: the TOTP secret is encrypted (``twofactor.cipher``),
recovery codes and challenge tokens are SHA-256 hashes of high-entropy values.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, OneTimeTokenMixin, SecretHash, parent_id


class TwoFactorAuthenticator(CreatedAtMixin, Base):
    __tablename__ = "two_factor_authenticators"
    __table_args__ = ({"sqlite_autoincrement": True},)

    user_id: Mapped[int] = parent_id("users", unique=True)
    # The base32 secret, encrypted under a key derived from PLAYDECK_SECRET_KEY.
    secret_ciphertext: Mapped[str] = mapped_column(String(255), nullable=False)
    # NULL while enrolment waits for its first code: not yet a second factor.
    confirmed_at: Mapped[datetime | None]
    # The last time step whose code was accepted: that code, and older ones, never work again.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class TwoFactorRecoveryCode(CreatedAtMixin, Base):
    __tablename__ = "two_factor_recovery_codes"
    __table_args__ = ({"sqlite_autoincrement": True},)

    user_id: Mapped[int] = parent_id("users", index=True)
    code_hash: Mapped[SecretHash]
    # Set once, by a conditional UPDATE: a code signs in at most once.
    used_at: Mapped[datetime | None]


class TwoFactorChallenge(OneTimeTokenMixin, CreatedAtMixin, Base):
    """A sign-in whose password was right, waiting for the second factor."""

    __tablename__ = "two_factor_challenges"
    __table_args__ = ({"sqlite_autoincrement": True},)

    user_id: Mapped[int] = parent_id("users", index=True)
