"""two factor: TOTP authenticators (secret encrypted), recovery codes and sign-in challenges
(both stored as SHA-256 hashes)
"""

import sqlalchemy as sa

from playdeck.migrations.columns import (
    create_table,
    drop_table,
    one_time_token,
    reference,
    secret_hash,
    timestamp,
)

revision = "0015"
down_revision: str | None = "0016"


def upgrade() -> None:
    create_table(
        "two_factor_authenticators",
        reference("user_id", "users", unique=True),
        sa.Column("secret_ciphertext", sa.String(length=255), nullable=False),
        timestamp("confirmed_at", nullable=True),
        sa.Column("last_used_step", sa.BigInteger(), nullable=True),
        sqlite_autoincrement=True,
    )
    create_table(
        "two_factor_recovery_codes",
        reference("user_id", "users", index=True),
        secret_hash("code_hash"),
        timestamp("used_at", nullable=True),
        sqlite_autoincrement=True,
    )
    create_table(
        "two_factor_challenges",
        reference("user_id", "users", index=True),
        *one_time_token(),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    drop_table("two_factor_challenges", "ix_two_factor_challenges_user_id")
    drop_table("two_factor_recovery_codes", "ix_two_factor_recovery_codes_user_id")
    drop_table("two_factor_authenticators")
