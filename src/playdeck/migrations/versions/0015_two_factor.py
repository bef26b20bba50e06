"""two factor: TOTP authenticators (secret encrypted), recovery codes and sign-in challenges
(both stored as SHA-256 hashes)

Revision ID: 0015
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import foreign_key, id_column, primary_key, reference, timestamp

revision = "0015"
down_revision: str | None = "0016"


def upgrade() -> None:
    op.create_table(
        "two_factor_authenticators",
        id_column(),
        reference("user_id"),
        sa.Column("secret_ciphertext", sa.String(length=255), nullable=False),
        timestamp("confirmed_at", nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        timestamp("created_at"),
        foreign_key("two_factor_authenticators", "user_id", "users", ondelete="CASCADE"),
        primary_key("two_factor_authenticators"),
        sa.UniqueConstraint("user_id", name=op.f("uq_two_factor_authenticators_user_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "two_factor_recovery_codes",
        id_column(),
        reference("user_id"),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        timestamp("used_at", nullable=True),
        timestamp("created_at"),
        foreign_key("two_factor_recovery_codes", "user_id", "users", ondelete="CASCADE"),
        primary_key("two_factor_recovery_codes"),
        sa.UniqueConstraint("code_hash", name=op.f("uq_two_factor_recovery_codes_code_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_two_factor_recovery_codes_user_id",
        "two_factor_recovery_codes",
        ["user_id"],
        unique=False,
    )
    op.create_table(
        "two_factor_challenges",
        id_column(),
        reference("user_id"),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        timestamp("expires_at"),
        timestamp("used_at", nullable=True),
        timestamp("created_at"),
        foreign_key("two_factor_challenges", "user_id", "users", ondelete="CASCADE"),
        primary_key("two_factor_challenges"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_two_factor_challenges_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_two_factor_challenges_user_id", "two_factor_challenges", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_two_factor_challenges_user_id", table_name="two_factor_challenges")
    op.drop_table("two_factor_challenges")
    op.drop_index("ix_two_factor_recovery_codes_user_id", table_name="two_factor_recovery_codes")
    op.drop_table("two_factor_recovery_codes")
    op.drop_table("two_factor_authenticators")
