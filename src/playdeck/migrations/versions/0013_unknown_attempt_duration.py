"""attempts: duration_ms may be unknown (NULL)

Playwright's junit reporter writes one time per testcase, the sum of its attempts': the
attempts split out of it have no duration of their own, which is not 0 ms.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision: str | None = "0009"


def _sqlite_duration_not_null(not_null: bool) -> None:
    """Add or drop NOT NULL on ``attempts.duration_ms`` in SQLite's stored schema, in place.

    SQLite cannot alter a column's nullability, and a batch copy of ``attempts`` would drop the
    table while foreign keys are on: its attachments would go with it (``ON DELETE CASCADE``).
    Removing (or, once no row is NULL, restoring) a NOT NULL constraint does not change what is
    on disk, so SQLite's documented procedure edits the table's SQL in ``sqlite_schema``
    (https://www.sqlite.org/lang_altertable.html, "ALTER TABLE ... other changes").
    """
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'attempts'"
    ).scalar_one()
    nullable, required = "duration_ms INTEGER,", "duration_ms INTEGER NOT NULL,"
    old, new = (nullable, required) if not_null else (required, nullable)
    if sql.count(old) != 1:
        raise RuntimeError(f"unexpected attempts table definition: {sql}")
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'attempts'",
        (sql.replace(old, new),),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_duration_not_null(False)
    else:
        op.alter_column("attempts", "duration_ms", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE attempts SET duration_ms = 0 WHERE duration_ms IS NULL")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_duration_not_null(True)
    else:
        op.alter_column("attempts", "duration_ms", existing_type=sa.Integer(), nullable=False)
