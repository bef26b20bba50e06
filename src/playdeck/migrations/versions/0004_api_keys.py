"""api keys: hashed long-lived credentials for CI, optionally restricted to a project and scopes"""

import sqlalchemy as sa

from playdeck.migrations.columns import create_table, drop_table, reference, secret_hash, timestamp

revision = "0004"
down_revision: str | None = "0003"


def upgrade() -> None:
    create_table(
        "api_keys",
        reference("user_id", "users", index=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=8), nullable=False),
        # Every request with a key looks it up by this hash.
        secret_hash("key_hash"),
        reference("project_id", "projects", nullable=True, index=True),
        sa.Column("scopes", sa.JSON(), nullable=True),
        timestamp("expires_at", nullable=True),
        timestamp("last_used_at", nullable=True),
        timestamp("revoked_at", nullable=True),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    drop_table("api_keys", "ix_api_keys_project_id", "ix_api_keys_user_id")
