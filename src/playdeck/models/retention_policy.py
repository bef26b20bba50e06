"""A project's retention policy: how long its runs, and their files, are kept.

``None`` limits mean "for ever". ``branch_rules`` is a list of ``{"branch": pattern,
"keep_days", "keep_last", "files_days"}`` objects (``retention.schemas.BranchRule``), first
match wins; a matching rule replaces the project-wide limits for that branch's runs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Integer
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, UpdatedAt, parent_id


class RetentionPolicy(CreatedAtMixin, Base):
    __tablename__ = "retention_policies"

    project_id: Mapped[int] = parent_id("projects", unique=True)
    keep_days: Mapped[int | None] = mapped_column(Integer)
    keep_last: Mapped[int | None] = mapped_column(Integer)
    # Attachments (traces, videos, screenshots) and report files: usually shorter than results.
    files_days: Mapped[int | None] = mapped_column(Integer)
    branch_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    updated_at: Mapped[UpdatedAt]
