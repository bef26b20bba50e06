"""quarantine: tests whose failures do not fail the CI job

Revision ID: 0011
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import foreign_key, id_column, primary_key, reference, timestamp

revision = "0011"
down_revision: str | None = "0013"


def upgrade() -> None:
    op.create_table(
        "quarantines",
        id_column(),
        reference("project_id"),
        reference("test_id"),
        sa.Column("reason", sa.Text(), nullable=False),
        timestamp("expires_at", nullable=True),
        reference("created_by_id", nullable=True),
        sa.Column("created_by_name", sa.String(length=200), nullable=True),
        timestamp("created_at"),
        foreign_key("quarantines", "project_id", "projects", ondelete="CASCADE"),
        foreign_key("quarantines", "test_id", "tests", ondelete="CASCADE"),
        foreign_key("quarantines", "created_by_id", "users", ondelete="SET NULL"),
        primary_key("quarantines"),
        sa.UniqueConstraint("test_id", name=op.f("uq_quarantines_test_id")),
    )
    with op.batch_alter_table("quarantines", schema=None) as batch_op:
        batch_op.create_index("ix_quarantines_project", ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quarantines", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantines_project")
    op.drop_table("quarantines")
