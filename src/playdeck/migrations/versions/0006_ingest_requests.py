"""ingest requests: Idempotency-Key of an ingest and the run it stored

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import foreign_key, id_column, primary_key, reference, timestamp

revision = "0006"
down_revision: str | None = "0005"


def upgrade() -> None:
    op.create_table(
        "ingest_requests",
        id_column(),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        reference("run_id", nullable=True),
        timestamp("created_at"),
        foreign_key("ingest_requests", "run_id", "runs", ondelete="CASCADE"),
        primary_key("ingest_requests"),
        sa.UniqueConstraint("caller", "key", name=op.f("uq_ingest_requests_caller_key")),
    )
    with op.batch_alter_table("ingest_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingest_requests_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ingest_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_requests_run_id"))
    op.drop_table("ingest_requests")
