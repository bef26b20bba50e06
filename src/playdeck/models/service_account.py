"""Service accounts: who owns one. The identity itself is a ``users`` row with ``is_service``
(so memberships, API keys, roles and audit work as for anyone); this row says which project
owns it (``project_id``), or that it is global (null, managed by administrators only)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, optional_reference, parent_id


class ServiceAccount(CreatedAtMixin, Base):
    __tablename__ = "service_accounts"
    __table_args__ = ({"sqlite_autoincrement": True},)

    user_id: Mapped[int] = parent_id("users", unique=True)
    # Deleting the project deletes the account's user row too (projects.service).
    project_id: Mapped[int | None] = optional_reference("projects", index=True)
    description: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = optional_reference("users", ondelete="SET NULL")
