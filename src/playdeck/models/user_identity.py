"""A user's account at a single-sign-on provider: ``(provider, subject)`` names one person there.

The subject (``sub``) is the provider's stable id for the person; an email can change or be
reassigned, so a returning user is found by this pair, never by email.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, parent_id


class UserIdentity(CreatedAtMixin, Base):
    __tablename__ = "user_identities"
    __table_args__ = (
        UniqueConstraint("provider", "subject"),
        {"sqlite_autoincrement": True},
    )

    user_id: Mapped[int] = parent_id("users", index=True)
    provider: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    # The email the provider last vouched for (for the admin's eyes; never used to match).
    email: Mapped[str | None] = mapped_column(String(254))
    last_login_at: Mapped[datetime | None]
