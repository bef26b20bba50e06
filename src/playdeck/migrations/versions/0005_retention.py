"""retention: per-project policies, pinned runs, runs whose files retention removed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "retention_policies",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("project_id", BIG_ID, nullable=False),
        sa.Column("keep_days", sa.Integer(), nullable=True),
        sa.Column("keep_last", sa.Integer(), nullable=True),
        sa.Column("files_days", sa.Integer(), nullable=True),
        sa.Column("branch_rules", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_retention_policies_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_policies")),
        sa.UniqueConstraint("project_id", name=op.f("uq_retention_policies_project_id")),
    )
    # Plain ALTER TABLE, never a batch copy: on SQLite a batch drops and recreates ``runs``,
    # and with foreign keys on, dropping it cascades to every result.
    op.add_column(
        "runs", sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("runs", sa.Column("files_pruned_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    # SQLite >= 3.35 drops a column in place (see upgrade: no batch copy of ``runs``).
    for column in ("files_pruned_at", "pinned"):
        op.execute(sa.text(f"ALTER TABLE runs DROP COLUMN {column}"))
    op.drop_table("retention_policies")
