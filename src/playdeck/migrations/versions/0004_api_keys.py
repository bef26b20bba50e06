"""api keys: hashed long-lived credentials for CI, optionally restricted to a project and scopes

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import foreign_key, id_column, primary_key, reference, timestamp

revision = "0004"
down_revision: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "api_keys",
        id_column(),
        reference("user_id"),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        reference("project_id", nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=True),
        timestamp("expires_at", nullable=True),
        timestamp("last_used_at", nullable=True),
        timestamp("revoked_at", nullable=True),
        timestamp("created_at"),
        foreign_key("api_keys", "user_id", "users", ondelete="CASCADE"),
        foreign_key("api_keys", "project_id", "projects", ondelete="CASCADE"),
        primary_key("api_keys"),
        # Every request with a key looks it up by this hash.
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_api_keys_user_id", "api_keys", ["user_id"], unique=False)
    op.create_index("ix_api_keys_project_id", "api_keys", ["project_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_api_keys_project_id", table_name="api_keys")
    op.drop_index("ix_api_keys_user_id", table_name="api_keys")
    op.drop_table("api_keys")
