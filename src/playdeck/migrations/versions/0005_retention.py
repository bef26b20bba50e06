"""retention: per-project policies, pinned runs, runs whose files retention removed"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import create_table, reference, timestamp

revision = "0005"
down_revision: str | None = "0004"


def upgrade() -> None:
    create_table(
        "retention_policies",
        reference("project_id", "projects", unique=True),
        sa.Column("keep_days", sa.Integer(), nullable=True),
        sa.Column("keep_last", sa.Integer(), nullable=True),
        sa.Column("files_days", sa.Integer(), nullable=True),
        sa.Column("branch_rules", sa.JSON(), nullable=False),
        timestamp("updated_at"),
    )
    # Plain ALTER TABLE, never a batch copy: on SQLite a batch drops and recreates ``runs``,
    # and with foreign keys on, dropping it cascades to every result.
    op.add_column(
        "runs", sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("runs", timestamp("files_pruned_at", nullable=True))


def downgrade() -> None:
    # SQLite >= 3.35 drops a column in place (see upgrade: no batch copy of ``runs``).
    for column in ("files_pruned_at", "pinned"):
        op.execute(sa.text(f"ALTER TABLE runs DROP COLUMN {column}"))
    op.drop_table("retention_policies")
