"""Server-side login sessions and the refresh tokens issued within them.

One row of ``user_sessions`` is one login on one device: the browser cookie names it, access
tokens carry its id (``sid``), and its refresh tokens form the RFC 9700 token family. Deleting the
row ends all three at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, UTCDateTime, id_column, parent_id


class UserSession(CreatedAtMixin, Base):
    __tablename__ = "user_sessions"
    # Ids are never reused (SQLite would hand out a deleted row's id again).
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = id_column()
    # What access tokens name (``sid``): random, so a token can never match a later session.
    public_id: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    user_id: Mapped[int] = parent_id("users", index=True)
    # SHA-256 of the cookie value; the value itself exists only in the browser.
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    user_agent: Mapped[str | None] = mapped_column(String(512))
    ip: Mapped[str | None] = mapped_column(String(64))
    # The single-sign-on provider this login came through (RP-initiated logout), if any.
    sso_provider: Mapped[str | None] = mapped_column(String(64))


class RefreshToken(CreatedAtMixin, Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = id_column()
    session_id: Mapped[int] = parent_id("user_sessions", index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # Set exactly once, by a conditional UPDATE: the database decides which refresh wins.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
