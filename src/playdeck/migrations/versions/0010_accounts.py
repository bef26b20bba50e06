"""accounts: users.failed_login_count is renamed failed_login_attempts (the word the seed guide's
manual unlock uses: ``UPDATE users SET failed_login_attempts=0, locked_until=NULL ...``);
account_links: one-time invitation and password-reset links

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-05

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Upgrade schema."""
    # RENAME COLUMN in place on both backends (SQLite >= 3.25): a batch copy of ``users`` would
    # rebuild the table every other table's foreign keys point at.
    op.alter_column("users", "failed_login_count", new_column_name="failed_login_attempts")
    op.create_table(
        "account_links",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", BIG_ID, nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("memberships", sa.JSON(), nullable=False),
        sa.Column("project_id", BIG_ID, nullable=True),
        sa.Column("created_by_id", BIG_ID, nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('invitation', 'password_reset')", name=op.f("ck_account_links_purpose")
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'reporter', 'user')", name=op.f("ck_account_links_role")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_account_links_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_account_links_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_account_links_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_account_links_user_id", "account_links", ["user_id"], unique=False)
    op.create_index("ix_account_links_project_id", "account_links", ["project_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_account_links_project_id", table_name="account_links")
    op.drop_index("ix_account_links_user_id", table_name="account_links")
    op.drop_table("account_links")
    op.alter_column("users", "failed_login_attempts", new_column_name="failed_login_count")
