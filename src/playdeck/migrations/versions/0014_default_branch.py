"""projects.default_branch: the branch flakiness and failure classification are measured on"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision: str | None = "0006"


def upgrade() -> None:
    op.add_column("projects", sa.Column("default_branch", sa.String(length=300), nullable=True))
    op.create_index("ix_runs_project_commit", "runs", ["project_id", "commit_sha"])


def downgrade() -> None:
    op.drop_index("ix_runs_project_commit", table_name="runs")
    # In place (SQLite >= 3.35): a batch copy of ``projects`` would cascade to every run.
    op.execute(sa.text("ALTER TABLE projects DROP COLUMN default_branch"))
