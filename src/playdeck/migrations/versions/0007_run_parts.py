"""run parts: sharded and live runs (run key, expected shards, the parts received)"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import create_table, drop_table, reference, timestamp

revision = "0007"
down_revision: str | None = "0008"

# ``outcomes.PartState``, as of this revision (tests/test_domain_words.py checks the database).
PART_STATES = ("open", "closed", "interrupted")


def upgrade() -> None:
    # Plain ALTER TABLE and indexes, never a batch copy: on SQLite a batch drops and recreates
    # ``runs``, and with foreign keys on, dropping it cascades to every result.
    op.add_column("runs", sa.Column("run_key", sa.String(length=200), nullable=True))
    op.add_column("runs", sa.Column("shard_total", sa.Integer(), nullable=True))
    op.create_index("uq_runs_project_id_run_key", "runs", ["project_id", "run_key"], unique=True)
    op.create_index("ix_runs_status", "runs", ["status"])
    listed = ", ".join(f"'{state}'" for state in PART_STATES)
    create_table(
        "run_parts",
        reference("run_id", "runs"),
        sa.Column("shard_index", sa.Integer(), nullable=True),
        sa.Column("shard_total", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reported_status", sa.String(length=16), nullable=True),
        sa.Column("tests", sa.Integer(), nullable=False),
        sa.Column("expected_tests", sa.Integer(), nullable=True),
        timestamp("opened_at"),
        timestamp("last_seen_at"),
        timestamp("closed_at", nullable=True),
        sa.Column("open_key", sa.String(length=200), nullable=True),
        sa.CheckConstraint(f"state IN ({listed})", name=op.f("ck_run_parts_state")),
        created_at=False,
        indexes={
            "ix_run_parts_run_id": ["run_id", "id"],
            "ix_run_parts_state_last_seen_at": ["state", "last_seen_at"],
        },
    )


def downgrade() -> None:
    drop_table("run_parts", "ix_run_parts_state_last_seen_at", "ix_run_parts_run_id")
    op.drop_index("ix_runs_status", table_name="runs")
    op.drop_index("uq_runs_project_id_run_key", table_name="runs")
    # In place (SQLite >= 3.35), like the upgrade: no batch copy of ``runs``.
    for column in ("shard_total", "run_key"):
        op.execute(sa.text(f"ALTER TABLE runs DROP COLUMN {column}"))
