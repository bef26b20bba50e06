from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.auth.principal import GlobalRole
from playdeck.authz.permissions import RoleSource
from playdeck.models.base import Base, CreatedAtMixin, UpdatedAt, one_of


class User(CreatedAtMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        one_of("role", GlobalRole, name="role"),
        one_of("role_source", RoleSource, name="role_source"),
        # A deleted user's id is never handed to a new account (the audit log names ids).
        {"sqlite_autoincrement": True},
    )

    username: Mapped[str] = mapped_column(String(150), nullable=False)
    # Stored lower-case; NULLs do not collide in a unique constraint on either backend.
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    # When ``email`` was proven (a verification link) or vouched for (an administrator, the
    # provider of a single sign-on); NULL: unverified, so it links no single-sign-on identity.
    email_verified_at: Mapped[datetime | None]
    role: Mapped[str] = mapped_column(String(16), nullable=False, default=GlobalRole.USER.value)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # A ``RoleSource``: sign-on rules set the global role only of users whose role they set.
    role_source: Mapped[str] = mapped_column(
        String(16), nullable=False, default=RoleSource.MANUAL.value, server_default="manual"
    )
    # NULL: a single-sign-on account, which no password signs in.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    failed_login_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Whole seconds, so it compares exactly with a JWT's integer ``iat``.
    password_changed_at: Mapped[datetime]
    updated_at: Mapped[UpdatedAt]
    # A service account (its owner in ``service_accounts``): nobody's identity, it works only
    # through its API keys and never signs in.
    is_service: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )


# Usernames are ASCII (see users.schemas), so lower() agrees on SQLite and PostgreSQL.
Index("uq_users_username_lower", func.lower(User.username), unique=True)
