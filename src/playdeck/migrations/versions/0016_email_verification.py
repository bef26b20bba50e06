"""users.email_verified_at: whether an account's email was proven (or vouched for), which a
single sign-on needs before it links to the account; email_verifications: the one-time links
that prove a new address. Existing emails count as verified: single sign-on linked by them
before this revision.

Revision ID: 0016
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import foreign_key, id_column, primary_key, reference, timestamp

revision = "0016"
down_revision: str | None = "0017"


def upgrade() -> None:
    # ADD COLUMN in place: a batch copy of ``users`` would cascade to every table pointing at it.
    op.add_column("users", timestamp("email_verified_at", nullable=True))
    op.execute(sa.text("UPDATE users SET email_verified_at = created_at WHERE email IS NOT NULL"))
    op.create_table(
        "email_verifications",
        id_column(),
        reference("user_id"),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        timestamp("expires_at"),
        timestamp("used_at", nullable=True),
        timestamp("created_at"),
        foreign_key("email_verifications", "user_id", "users", ondelete="CASCADE"),
        primary_key("email_verifications"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_email_verifications_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_email_verifications_user_id", "email_verifications", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_email_verifications_user_id", table_name="email_verifications")
    op.drop_table("email_verifications")
    op.execute(sa.text("ALTER TABLE users DROP COLUMN email_verified_at"))  # SQLite >= 3.35
