"""attempts: duration_ms may be unknown (NULL)

Playwright's junit reporter writes one time per testcase, the sum of its attempts': the
attempts split out of it have no duration of their own, which is not 0 ms.

Revision ID: 0013
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision: str | None = "0009"


def upgrade() -> None:
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.alter_column("duration_ms", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE attempts SET duration_ms = 0 WHERE duration_ms IS NULL")
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.alter_column("duration_ms", existing_type=sa.Integer(), nullable=False)
