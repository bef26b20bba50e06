"""A quarantined test: its failures are reported but do not fail the CI job (``quarantine/``).

One row per quarantined test; un-quarantining deletes it (the audit log keeps the history). An
``expires_at`` in the past means the quarantine has lapsed: the test counts again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, optional_reference, parent_id


class Quarantine(CreatedAtMixin, Base):
    __tablename__ = "quarantines"
    __table_args__ = (Index("ix_quarantines_project", "project_id"),)

    project_id: Mapped[int] = parent_id("projects")
    test_id: Mapped[int] = parent_id("tests", unique=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    expires_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = optional_reference("users", ondelete="SET NULL")
    # Kept beside the id: the user may be deleted, the name still says who decided.
    created_by_name: Mapped[str | None] = mapped_column(String(200))
