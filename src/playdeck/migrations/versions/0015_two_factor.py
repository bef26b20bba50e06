"""two factor: TOTP authenticators (secret encrypted), recovery codes and sign-in challenges
(both stored as SHA-256 hashes)
"""

import sqlalchemy as sa

from playdeck.migrations.columns import create_table, drop_table, reference, timestamp

revision = "0015"
down_revision: str | None = "0016"


def upgrade() -> None:
    create_table(
        "two_factor_authenticators",
        reference("user_id", "users"),
        sa.Column("secret_ciphertext", sa.String(length=255), nullable=False),
        timestamp("confirmed_at", nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        unique=["user_id"],
        sqlite_autoincrement=True,
    )
    create_table(
        "two_factor_recovery_codes",
        reference("user_id", "users"),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        timestamp("used_at", nullable=True),
        unique=["code_hash"],
        indexes={"ix_two_factor_recovery_codes_user_id": ["user_id"]},
        sqlite_autoincrement=True,
    )
    create_table(
        "two_factor_challenges",
        reference("user_id", "users"),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        timestamp("expires_at"),
        timestamp("used_at", nullable=True),
        unique=["token_hash"],
        indexes={"ix_two_factor_challenges_user_id": ["user_id"]},
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    drop_table("two_factor_challenges", "ix_two_factor_challenges_user_id")
    drop_table("two_factor_recovery_codes", "ix_two_factor_recovery_codes_user_id")
    drop_table("two_factor_authenticators")
