"""A user's role in one project (the JWT login API's four: owner, admin, member, viewer).

Global admins need no row here: they may do everything everywhere. Global reporters never get
one: they may only submit, to any project.
"""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.authz.permissions import ProjectRole, RoleSource
from playdeck.models.base import Base, CreatedAtMixin, one_of, parent_id


class ProjectMember(CreatedAtMixin, Base):
    __tablename__ = "project_members"
    __table_args__ = (
        one_of("role", ProjectRole, name="role"),
        one_of("source", RoleSource, name="source"),
        UniqueConstraint("project_id", "user_id"),
        {"sqlite_autoincrement": True},
    )

    project_id: Mapped[int] = parent_id("projects")
    user_id: Mapped[int] = parent_id("users", index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)  # a ``ProjectRole``
    # A ``RoleSource``: sign-on rules update only the memberships they made.
    source: Mapped[str] = mapped_column(
        String(16), nullable=False, default=RoleSource.MANUAL.value, server_default="manual"
    )
