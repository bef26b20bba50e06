"""api keys: hashed long-lived credentials for CI, optionally restricted to a project and scopes"""

import sqlalchemy as sa

from playdeck.migrations.columns import create_table, drop_table, reference, timestamp

revision = "0004"
down_revision: str | None = "0003"


def upgrade() -> None:
    create_table(
        "api_keys",
        reference("user_id", "users"),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        reference("project_id", "projects", nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=True),
        timestamp("expires_at", nullable=True),
        timestamp("last_used_at", nullable=True),
        timestamp("revoked_at", nullable=True),
        # Every request with a key looks it up by this hash.
        unique=["key_hash"],
        indexes={"ix_api_keys_user_id": ["user_id"], "ix_api_keys_project_id": ["project_id"]},
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    drop_table("api_keys", "ix_api_keys_project_id", "ix_api_keys_user_id")
