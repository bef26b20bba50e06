"""project memberships: which users may work in which project, and with what role"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import create_table, drop_table, reference

revision = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    create_table(
        "project_members",
        reference("project_id", "projects"),
        # Indexed for "projects of this user": the visible-projects subquery on every list.
        reference("user_id", "users", index=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "role IN ('owner', 'admin', 'member', 'viewer')",
            name=op.f("ck_project_members_role"),
        ),
        # Also the index for "members of this project" (its leading column).
        unique=[("project_id", "user_id")],
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    drop_table("project_members", "ix_project_members_user_id")
