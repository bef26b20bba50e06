from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, one_of, parent_id
from playdeck.outcomes import PartState


class RunPart(Base):
    """One part of a run named by a run key: an upload, or a client's live session; of one
    shard (``shard_index`` of ``shard_total``, from 1) or of none (a CI matrix job).

    A run without a key has no parts: it is the one upload that stored it.
    """

    __tablename__ = "run_parts"
    __table_args__ = (
        one_of("state", PartState, name="state"),
        Index("ix_run_parts_run_id", "run_id", "id"),
        # The sweeper's search: open parts, stalest first.
        Index("ix_run_parts_state_last_seen_at", "state", "last_seen_at"),
    )

    run_id: Mapped[int] = parent_id("runs")
    shard_index: Mapped[int | None] = mapped_column(Integer)
    shard_total: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), nullable=False)  # a ``PartState``
    # A cut-short status the client reported for this part (its report, or its close).
    reported_status: Mapped[str | None] = mapped_column(String(16))
    tests: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # How many tests the client expects to send (a live part's progress), when it said.
    expected_tests: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # The ``Idempotency-Key`` a live part's opening came with: a retried opening answers this
    # part instead of opening a second one that nobody would ever close.
    open_key: Mapped[str | None] = mapped_column(String(200))
