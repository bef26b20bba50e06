from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, optional_reference


class IngestRequest(CreatedAtMixin, Base):
    """An ingest sent with an ``Idempotency-Key``: a retry with the same key and body gets the
    run the first request stored. Kept as long as that run exists."""

    __tablename__ = "ingest_requests"
    __table_args__ = (UniqueConstraint("caller", "key"),)

    # Whose key it is ("user:<id>", or "server" with authentication off): keys are per caller.
    caller: Mapped[str] = mapped_column(String(64), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    # SHA-256 of what was sent (the JSON body, or the form's fields and files).
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    run_id: Mapped[int | None] = optional_reference("runs", index=True)
