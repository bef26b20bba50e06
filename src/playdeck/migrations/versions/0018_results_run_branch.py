"""results.run_branch, the run's branch, and ix_results_test_branch_started: a test's results
in a window on one branch are counted from the index alone; ix_results_run_rank also holds
test_id: a run's flaky and failing results are found per test without reading their rows
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision: str | None = "0015"

RUN_RANK_COLUMNS = ["run_id", "rank", "id"]


def _rebuild_run_rank(columns: list[str]) -> None:
    # Index operations only, never a batch copy of ``results`` (see 0017).
    op.drop_index("ix_results_run_rank", table_name="results")
    op.create_index("ix_results_run_rank", "results", columns)


def upgrade() -> None:
    # Plain ALTER TABLE, never a batch copy: on SQLite a batch drops and recreates ``results``,
    # and with foreign keys on, dropping it cascades to every attempt (see 0007).
    op.add_column("results", sa.Column("run_branch", sa.String(length=300), nullable=True))
    op.execute(
        sa.text(
            "UPDATE results SET run_branch = "
            "(SELECT runs.branch FROM runs WHERE runs.id = results.run_id) "
            "WHERE run_id IN (SELECT id FROM runs WHERE branch IS NOT NULL)"
        )
    )
    op.create_index(
        "ix_results_test_branch_started", "results", ["test_id", "run_branch", "run_started_at"]
    )
    _rebuild_run_rank([*RUN_RANK_COLUMNS, "test_id"])


def downgrade() -> None:
    _rebuild_run_rank(RUN_RANK_COLUMNS)
    op.drop_index("ix_results_test_branch_started", table_name="results")
    # In place (SQLite >= 3.35), like the upgrade: no batch copy of ``results``.
    op.execute(sa.text("ALTER TABLE results DROP COLUMN run_branch"))
