"""ix_results_test_started also holds run_id and rank: a test's results in a window are counted
per branch, and a failure's pass on the same commit found, from the index alone
"""

from alembic import op

revision = "0017"
down_revision: str | None = "0007"

OLD_COLUMNS = ["test_id", "run_started_at", "id"]
NEW_COLUMNS = [*OLD_COLUMNS, "run_id", "rank"]


def _rebuild(columns: list[str]) -> None:
    # Index operations only, never a batch copy of ``results`` (see 0007).
    op.drop_index("ix_results_test_started", table_name="results")
    op.create_index("ix_results_test_started", "results", columns)


def upgrade() -> None:
    _rebuild(NEW_COLUMNS)


def downgrade() -> None:
    _rebuild(OLD_COLUMNS)
