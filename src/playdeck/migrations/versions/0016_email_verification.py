"""users.email_verified_at: whether an account's email was proven (or vouched for), which a
single sign-on needs before it links to the account; email_verifications: the one-time links
that prove a new address. Existing emails count as verified: single sign-on linked by them
before this revision.
"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import (
    create_table,
    drop_table,
    one_time_token,
    reference,
    timestamp,
)

revision = "0016"
down_revision: str | None = "0017"


def upgrade() -> None:
    # ADD COLUMN in place: a batch copy of ``users`` would cascade to every table pointing at it.
    op.add_column("users", timestamp("email_verified_at", nullable=True))
    op.execute(sa.text("UPDATE users SET email_verified_at = created_at WHERE email IS NOT NULL"))
    create_table(
        "email_verifications",
        reference("user_id", "users", index=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        *one_time_token(),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    drop_table("email_verifications", "ix_email_verifications_user_id")
    op.execute(sa.text("ALTER TABLE users DROP COLUMN email_verified_at"))  # SQLite >= 3.35
