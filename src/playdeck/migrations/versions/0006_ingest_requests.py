"""ingest requests: Idempotency-Key of an ingest and the run it stored"""

import sqlalchemy as sa

from playdeck.migrations.columns import create_table, drop_table, reference

revision = "0006"
down_revision: str | None = "0005"


def upgrade() -> None:
    create_table(
        "ingest_requests",
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        reference("run_id", "runs", nullable=True, index=True),
        unique=[("caller", "key")],
    )


def downgrade() -> None:
    drop_table("ingest_requests", "ix_ingest_requests_run_id")
