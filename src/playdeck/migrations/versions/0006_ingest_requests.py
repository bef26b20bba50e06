"""ingest requests: Idempotency-Key of an ingest and the run it stored

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "ingest_requests",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("caller", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("run_id", BIG_ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["runs.id"],
            name=op.f("fk_ingest_requests_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_requests")),
        sa.UniqueConstraint("caller", "key", name=op.f("uq_ingest_requests_caller_key")),
    )
    with op.batch_alter_table("ingest_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingest_requests_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("ingest_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_requests_run_id"))
    op.drop_table("ingest_requests")
