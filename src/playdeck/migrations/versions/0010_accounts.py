"""accounts: users.failed_login_count is renamed failed_login_attempts (the word the seed guide's
manual unlock uses: ``UPDATE users SET failed_login_attempts=0, locked_until=NULL ...``);
account_links: one-time invitation and password-reset links, stored as hashes;
users.is_service and service_accounts: identities owned by a project (or global), not a person

Revision ID: 0010
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import foreign_key, id_column, primary_key, reference, timestamp

revision = "0010"
down_revision: str | None = "0011"


def upgrade() -> None:
    # RENAME COLUMN in place on both backends (SQLite >= 3.25): a batch copy of ``users`` would
    # rebuild the table every other table's foreign keys point at.
    op.alter_column("users", "failed_login_count", new_column_name="failed_login_attempts")
    op.add_column(
        "users", sa.Column("is_service", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_table(
        "service_accounts",
        id_column(),
        reference("user_id"),
        reference("project_id", nullable=True),
        sa.Column("description", sa.String(length=200), nullable=True),
        reference("created_by_id", nullable=True),
        timestamp("created_at"),
        foreign_key("service_accounts", "user_id", "users", ondelete="CASCADE"),
        foreign_key("service_accounts", "project_id", "projects", ondelete="CASCADE"),
        foreign_key("service_accounts", "created_by_id", "users", ondelete="SET NULL"),
        primary_key("service_accounts"),
        sa.UniqueConstraint("user_id", name=op.f("uq_service_accounts_user_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_service_accounts_project_id", "service_accounts", ["project_id"], unique=False
    )
    op.create_table(
        "account_links",
        id_column(),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        reference("user_id", nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("memberships", sa.JSON(), nullable=False),
        reference("project_id", nullable=True),
        reference("created_by_id", nullable=True),
        timestamp("expires_at"),
        timestamp("used_at", nullable=True),
        timestamp("created_at"),
        sa.CheckConstraint(
            "purpose IN ('invitation', 'password_reset')", name=op.f("ck_account_links_purpose")
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'reporter', 'user')", name=op.f("ck_account_links_role")
        ),
        foreign_key("account_links", "user_id", "users", ondelete="CASCADE"),
        foreign_key("account_links", "project_id", "projects", ondelete="CASCADE"),
        foreign_key("account_links", "created_by_id", "users", ondelete="SET NULL"),
        primary_key("account_links"),
        # Every use of a link looks it up by this hash.
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_links_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_account_links_user_id", "account_links", ["user_id"], unique=False)
    op.create_index("ix_account_links_project_id", "account_links", ["project_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_service_accounts_project_id", table_name="service_accounts")
    op.drop_table("service_accounts")
    op.drop_column("users", "is_service")  # SQLite >= 3.35
    op.drop_index("ix_account_links_project_id", table_name="account_links")
    op.drop_index("ix_account_links_user_id", table_name="account_links")
    op.drop_table("account_links")
    op.alter_column("users", "failed_login_attempts", new_column_name="failed_login_count")
