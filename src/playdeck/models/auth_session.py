"""Server-side login sessions and the refresh tokens issued within them.

One row of ``user_sessions`` is one login on one device: the browser cookie names it, access
tokens carry its id (``sid``), and its refresh tokens form the RFC 9700 token family. Deleting the
row ends all three at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, OneTimeTokenMixin, SecretHash, parent_id


class UserSession(CreatedAtMixin, Base):
    __tablename__ = "user_sessions"
    # Ids are never reused (SQLite would hand out a deleted row's id again).
    __table_args__ = ({"sqlite_autoincrement": True},)

    # What access tokens name (``sid``): random, so a token can never match a later session.
    public_id: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    user_id: Mapped[int] = parent_id("users", index=True)
    # SHA-256 of the cookie value; the value itself exists only in the browser.
    token_hash: Mapped[SecretHash]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    user_agent: Mapped[str | None] = mapped_column(String(512))
    ip: Mapped[str | None] = mapped_column(String(64))
    # The single-sign-on provider this login came through (RP-initiated logout), if any.
    sso_provider: Mapped[str | None] = mapped_column(String(64))


class RefreshToken(OneTimeTokenMixin, CreatedAtMixin, Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = ({"sqlite_autoincrement": True},)

    session_id: Mapped[int] = parent_id("user_sessions", index=True)
