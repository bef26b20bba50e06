from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, parent_id


class Run(CreatedAtMixin, Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_project_started", "project_id", "started_at", "id"),
        Index("ix_runs_started", "started_at", "id"),
        Index("ix_runs_project_branch_started", "project_id", "branch", "started_at", "id"),
        # Finds a commit's other runs: "failed and passed on the same commit" is a flip.
        Index("ix_runs_project_commit", "project_id", "commit_sha"),
        # Uploads naming the same CI build merge into one run: this makes that race-free. A
        # unique index, not a constraint: SQLite adds one without rebuilding ``runs``.
        Index("uq_runs_project_id_run_key", "project_id", "run_key", unique=True),
        # The sweeper's search for runs still waiting (``running``), few among many.
        Index("ix_runs_status", "status"),
    )

    project_id: Mapped[int] = parent_id("projects")
    name: Mapped[str | None] = mapped_column(String(300))
    started_at: Mapped[datetime]
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # an ``outcomes.RunStatus``

    # Counts are computed from the stored results, never taken from the client: one column per
    # ``outcomes.Outcome``, named by its value.
    total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    passed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    flaky: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    timedout: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    interrupted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # pytest's words; zero for runs of other clients.
    error: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    xfailed: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    xpassed: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")

    branch: Mapped[str | None] = mapped_column(String(300))
    commit_sha: Mapped[str | None] = mapped_column(String(100))
    commit_message: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(300))
    ci_provider: Mapped[str | None] = mapped_column(String(100))
    ci_build_number: Mapped[str | None] = mapped_column(String(100))
    ci_build_url: Mapped[str | None] = mapped_column(Text)
    environment: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, nullable=False, default=dict)
    source_format: Mapped[str] = mapped_column(String(32), nullable=False)

    # Sharded and live runs (``ingest.live``): the CI build's key that merges its uploads, and
    # how many shards the clients said there are; ``None`` for a run stored by one upload.
    run_key: Mapped[str | None] = mapped_column(String(200))
    shard_total: Mapped[int | None] = mapped_column(Integer)

    # Retention: a pinned run is never pruned; ``files_pruned_at`` says when retention removed
    # the run's attachments and report files (its results stay).
    pinned: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    files_pruned_at: Mapped[datetime | None]
