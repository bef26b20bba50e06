"""pytest outcomes: error, xfailed and xpassed counts on runs; results re-ranked

``results.rank`` is the outcome's place in ``outcomes.Outcome`` (worst first). Three outcomes
join that order, so every stored rank moves to the new place of its outcome. The orders are
written out here: a migration must keep meaning what it meant when it was written.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision: str | None = "0010"

NEW_COUNTS = ("error", "xfailed", "xpassed")
OLD_ORDER = ("failed", "timedout", "interrupted", "flaky", "passed", "skipped")
NEW_ORDER = (
    "failed",
    "error",
    "timedout",
    "interrupted",
    "flaky",
    "xpassed",
    "passed",
    "xfailed",
    "skipped",
)
# Going back: each new outcome becomes what the earlier code stored for it.
DOWNGRADED_OUTCOMES = {"error": "failed", "xfailed": "passed", "xpassed": "passed"}
DOWNGRADED_STATUSES = {"error": "failed", "xfailed": "failed", "xpassed": "passed"}


def _rerank(order: Sequence[str]) -> None:
    results = sa.table("results", sa.column("outcome", sa.String), sa.column("rank", sa.Integer))
    op.execute(
        results.update().values(
            rank=sa.case(
                {outcome: rank for rank, outcome in enumerate(order)},
                value=results.c.outcome,
                else_=results.c.rank,
            )
        )
    )


def upgrade() -> None:
    # Plain ALTER TABLE, never a batch copy: on SQLite a batch drops and recreates ``runs``,
    # and with foreign keys on, dropping it cascades to every result (as in 0005).
    for name in NEW_COUNTS:
        op.add_column("runs", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    _rerank(NEW_ORDER)


def downgrade() -> None:
    results = sa.table("results", sa.column("outcome", sa.String))
    attempts = sa.table("attempts", sa.column("status", sa.String))
    for new, old in DOWNGRADED_OUTCOMES.items():
        op.execute(results.update().where(results.c.outcome == new).values(outcome=old))
    for new, old in DOWNGRADED_STATUSES.items():
        op.execute(attempts.update().where(attempts.c.status == new).values(status=old))
    runs = sa.table(
        "runs", *(sa.column(name, sa.Integer) for name in ("passed", "failed", *NEW_COUNTS))
    )
    op.execute(
        runs.update().values(
            failed=runs.c.failed + runs.c.error,
            passed=runs.c.passed + runs.c.xfailed + runs.c.xpassed,
        )
    )
    _rerank(OLD_ORDER)
    # SQLite >= 3.35 drops a column in place (see upgrade: no batch copy of ``runs``).
    for name in reversed(NEW_COUNTS):
        op.execute(sa.text(f"ALTER TABLE runs DROP COLUMN {name}"))
