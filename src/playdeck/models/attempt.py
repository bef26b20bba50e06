from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, parent_id

# stdout/stderr are kept for diagnosis, not archival: each is cut to this many characters.
MAX_OUTPUT_CHARS = 64 * 1024


class Attempt(Base):
    """One try of a result (Playwright retries, pytest reruns)."""

    __tablename__ = "attempts"
    __table_args__ = (Index("ix_attempts_result", "result_id", "retry"),)

    result_id: Mapped[int] = parent_id("results")
    retry: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    # NULL: unknown (a JUnit testcase's retries share one time; none is the attempt's own).
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True, default=0)
    started_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    error_stack: Mapped[str | None] = mapped_column(Text)
    stdout: Mapped[str | None] = mapped_column(Text)
    stderr: Mapped[str | None] = mapped_column(Text)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
