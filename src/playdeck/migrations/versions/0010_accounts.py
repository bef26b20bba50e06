"""accounts: users.failed_login_count is renamed failed_login_attempts (the word the seed guide's
manual unlock uses: ``UPDATE users SET failed_login_attempts=0, locked_until=NULL ...``);
account_links: one-time invitation and password-reset links, stored as hashes;
users.is_service and service_accounts: identities owned by a project (or global), not a person
"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import create_table, drop_table, reference, secret_hash, timestamp

revision = "0010"
down_revision: str | None = "0011"


def upgrade() -> None:
    # RENAME COLUMN in place on both backends (SQLite >= 3.25): a batch copy of ``users`` would
    # rebuild the table every other table's foreign keys point at.
    op.alter_column("users", "failed_login_count", new_column_name="failed_login_attempts")
    op.add_column(
        "users", sa.Column("is_service", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    create_table(
        "service_accounts",
        reference("user_id", "users", unique=True),
        reference("project_id", "projects", nullable=True, index=True),
        sa.Column("description", sa.String(length=200), nullable=True),
        reference("created_by_id", "users", nullable=True, ondelete="SET NULL"),
        sqlite_autoincrement=True,
    )
    create_table(
        "account_links",
        sa.Column("purpose", sa.String(length=16), nullable=False),
        # Every use of a link looks it up by this hash.
        secret_hash("token_hash"),
        reference("user_id", "users", nullable=True, index=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("memberships", sa.JSON(), nullable=False),
        reference("project_id", "projects", nullable=True, index=True),
        reference("created_by_id", "users", nullable=True, ondelete="SET NULL"),
        timestamp("expires_at"),
        timestamp("used_at", nullable=True),
        sa.CheckConstraint(
            "purpose IN ('invitation', 'password_reset')", name=op.f("ck_account_links_purpose")
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'reporter', 'user')", name=op.f("ck_account_links_role")
        ),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    drop_table("service_accounts", "ix_service_accounts_project_id")
    op.drop_column("users", "is_service")  # SQLite >= 3.35
    drop_table("account_links", "ix_account_links_project_id", "ix_account_links_user_id")
    op.alter_column("users", "failed_login_attempts", new_column_name="failed_login_count")
