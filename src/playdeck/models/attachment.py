from __future__ import annotations

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, parent_id


class Attachment(CreatedAtMixin, Base):
    """A file attached to an attempt; the bytes live in the content-addressed store."""

    __tablename__ = "attachments"
    __table_args__ = (
        Index("ix_attachments_attempt", "attempt_id"),
        Index("ix_attachments_run", "run_id"),
        Index("ix_attachments_sha256", "sha256"),
    )

    attempt_id: Mapped[int] = parent_id("attempts")
    run_id: Mapped[int] = parent_id("runs")
    name: Mapped[str] = mapped_column(Text, nullable=False)
    content_type: Mapped[str] = mapped_column(String(200), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
