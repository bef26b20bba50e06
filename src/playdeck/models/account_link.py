"""One-time account links: an invitation to create an account, or a password reset.

Only the SHA-256 of the token is stored; the plaintext exists once, in the link shown to the
administrator (or mailed). A link is used at most once (``used_at`` is set by a conditional
update) and never after ``expires_at``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.auth.principal import GlobalRole
from playdeck.invitations.purpose import LinkPurpose
from playdeck.models.base import Base, CreatedAtMixin, SecretHash, one_of, optional_reference


class AccountLink(CreatedAtMixin, Base):
    __tablename__ = "account_links"
    __table_args__ = (
        one_of("purpose", LinkPurpose, name="purpose"),
        one_of("role", GlobalRole, name="role"),
        {"sqlite_autoincrement": True},
    )

    purpose: Mapped[str] = mapped_column(String(16), nullable=False)
    token_hash: Mapped[SecretHash]
    # A reset: whose password. An invitation: the account it created, once accepted.
    user_id: Mapped[int | None] = optional_reference("users", index=True)
    # An invitation: the address it was sent to (the account's email), the global role, and
    # the memberships it grants: [{"project_id": 1, "role": "member"}].
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str | None] = mapped_column(String(16))
    memberships: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    # A project owner's invitation to their project; deleting the project deletes it.
    project_id: Mapped[int | None] = optional_reference("projects", index=True)
    created_by_id: Mapped[int | None] = optional_reference("users", ondelete="SET NULL")
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
