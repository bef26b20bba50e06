"""users.failed_login_count is renamed failed_login_attempts, the word the seed guide's manual
unlock uses (``UPDATE users SET failed_login_attempts=0, locked_until=NULL ...``)

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-05

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # RENAME COLUMN in place on both backends (SQLite >= 3.25): a batch copy of ``users`` would
    # rebuild the table every other table's foreign keys point at.
    op.alter_column("users", "failed_login_count", new_column_name="failed_login_attempts")


def downgrade() -> None:
    """Downgrade schema."""
    op.alter_column("users", "failed_login_attempts", new_column_name="failed_login_count")
