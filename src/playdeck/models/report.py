from __future__ import annotations

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, parent_id


class Report(CreatedAtMixin, Base):
    """An uploaded report bundle of a run (Playwright HTML report, blob report, ...). A run in
    parts may hold several of one type, one per part that brought one (each shard's HTML
    report): ``label`` tells them apart."""

    __tablename__ = "reports"

    run_id: Mapped[int] = parent_id("runs", index=True)
    type: Mapped[str] = mapped_column(String(64), nullable=False)
    label: Mapped[str | None] = mapped_column(String(200))
    entry: Mapped[str] = mapped_column(Text, nullable=False)


class ReportFile(Base):
    """One file of a report, addressed by its path inside the report; bytes by sha256."""

    __tablename__ = "report_files"
    __table_args__ = (
        UniqueConstraint("report_id", "path"),
        Index("ix_report_files_sha256", "sha256"),
    )

    report_id: Mapped[int] = parent_id("reports")
    path: Mapped[str] = mapped_column(Text, nullable=False)
    content_type: Mapped[str] = mapped_column(String(200), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
