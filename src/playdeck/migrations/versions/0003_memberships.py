"""project memberships: which users may work in which project, and with what role

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import foreign_key, id_column, primary_key, reference, timestamp

revision = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    op.create_table(
        "project_members",
        id_column(),
        reference("project_id"),
        reference("user_id"),
        sa.Column("role", sa.String(length=16), nullable=False),
        timestamp("created_at"),
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'member', 'viewer')",
            name=op.f("ck_project_members_role"),
        ),
        foreign_key("project_members", "project_id", "projects", ondelete="CASCADE"),
        foreign_key("project_members", "user_id", "users", ondelete="CASCADE"),
        primary_key("project_members"),
        # Also the index for "members of this project" (its leading column).
        sa.UniqueConstraint(
            "project_id", "user_id", name=op.f("uq_project_members_project_id_user_id")
        ),
        sqlite_autoincrement=True,
    )
    # "Projects of this user": the visible-projects subquery on every list.
    op.create_index("ix_project_members_user_id", "project_members", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_project_members_user_id", table_name="project_members")
    op.drop_table("project_members")
