"""reports lose their unique (run_id, type): every part of a run in parts (a shard, a live
part) may bring its own report of a type, e.g. each Playwright shard its HTML report; reports
stay indexed by run (ix_reports_run_id)

SQLite cannot drop a table constraint in place, so there ``reports`` is rebuilt (a batch copy).
Dropping the old table with foreign keys on (they cannot be turned off inside the migration's
transaction) would cascade to every ``report_files`` row, so those rows are kept aside in a
temporary table and put back, ids included. ``reports`` holds one row per uploaded report,
``report_files`` one per file of one: small beside ``results`` and ``attachments``.
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision = "0019"
down_revision: str | None = "0018"

UNIQUE = "uq_reports_run_id_type"
INDEX = "ix_reports_run_id"


def _alter_reports(change: Callable[[BatchOperations], None]) -> None:
    """Apply ``change`` to ``reports`` by a batch copy on SQLite, in place elsewhere."""
    if op.get_bind().dialect.name != "sqlite":
        with op.batch_alter_table("reports") as batch:
            change(batch)
        return
    op.execute(sa.text("CREATE TEMPORARY TABLE report_files_0019 AS SELECT * FROM report_files"))
    with op.batch_alter_table("reports", recreate="always") as batch:
        change(batch)
    op.execute(sa.text("INSERT INTO report_files SELECT * FROM report_files_0019"))
    op.execute(sa.text("DROP TABLE report_files_0019"))


def _drop_unique(batch: BatchOperations) -> None:
    batch.drop_constraint(UNIQUE, type_="unique")


def _add_unique(batch: BatchOperations) -> None:
    batch.create_unique_constraint(UNIQUE, ["run_id", "type"])


def upgrade() -> None:
    _alter_reports(_drop_unique)
    op.create_index(INDEX, "reports", ["run_id"])


def downgrade() -> None:
    duplicated = op.get_bind().execute(
        sa.text("SELECT run_id, type FROM reports GROUP BY run_id, type HAVING count(*) > 1")
    )
    pairs = [f"run {run_id}: {type_}" for run_id, type_ in duplicated]
    if pairs:
        # Deleting reports to make room for the constraint would lose uploads: the operator
        # chooses which to delete (or stays on this revision).
        raise RuntimeError(
            f"Cannot downgrade below 0019: {len(pairs)} run(s) hold several reports of one "
            f"type, which revision 0018 cannot store ({', '.join(pairs[:10])}"
            f"{', ...' if len(pairs) > 10 else ''}). Delete the extra reports (or their runs) "
            "first."
        )
    op.drop_index(INDEX, table_name="reports")
    _alter_reports(_add_unique)
