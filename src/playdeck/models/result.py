from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, BigId, UTCDateTime, parent_id


class Result(Base):
    """One test in one run, with its final outcome."""

    __tablename__ = "results"
    __table_args__ = (
        # test_id: a run's flaky and failing results are found per test from the index alone.
        Index("ix_results_run_rank", "run_id", "rank", "id", "test_id"),
        # run_id and rank make a test's results in a window an index-only read: counted per
        # branch, and a failure's pass on the same commit found (``runs.analytics``).
        Index("ix_results_test_started", "test_id", "run_started_at", "id", "run_id", "rank"),
        Index("ix_results_project_started", "project_id", "run_started_at"),
        # A test's results in a window on one branch, counted from the index alone: the "runs"
        # of its flake statistics on the default branch (``runs.analytics``).
        Index("ix_results_test_branch_started", "test_id", "run_branch", "run_started_at"),
    )

    run_id: Mapped[int] = parent_id("runs")
    test_id: Mapped[int] = parent_id("tests")
    # Denormalised from the run so history and flakiness read one index, not a join. Always the
    # run's ``started_at`` (written with the result, never changed): flakiness finds a test's
    # result in a given run by (test_id, run_started_at).
    project_id: Mapped[int] = mapped_column(BigId, nullable=False)
    run_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # The run's ``branch``, denormalised like ``run_started_at``: written with the result, and
    # set on the run's earlier results when a later part of a run in parts names the branch
    # (``ingest.live``), the one way a run's branch changes.
    run_branch: Mapped[str | None] = mapped_column(String(300))
    # An ``outcomes.Outcome``; ``rank`` is its ``Outcome.rank``, failures first: the default
    # order of a run's tests is (rank, id).
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    rank: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    expected_status: Mapped[str | None] = mapped_column(String(16))  # an ``AttemptStatus``
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    retry_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_stack: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    annotations: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
