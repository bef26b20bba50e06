"""quarantine: tests whose failures do not fail the CI job"""

import sqlalchemy as sa

from playdeck.migrations.columns import create_table, drop_table, reference, timestamp

revision = "0011"
down_revision: str | None = "0013"


def upgrade() -> None:
    create_table(
        "quarantines",
        reference("project_id", "projects"),
        reference("test_id", "tests", unique=True),
        sa.Column("reason", sa.Text(), nullable=False),
        timestamp("expires_at", nullable=True),
        reference("created_by_id", "users", nullable=True, ondelete="SET NULL"),
        sa.Column("created_by_name", sa.String(length=200), nullable=True),
        indexes={"ix_quarantines_project": ["project_id"]},
    )


def downgrade() -> None:
    drop_table("quarantines", "ix_quarantines_project")
