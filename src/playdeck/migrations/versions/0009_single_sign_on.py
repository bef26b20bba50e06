"""single sign-on: provider identities, password-less users, where a role came from

``users.password_hash`` becomes nullable (a single-sign-on account has no password). SQLite
cannot drop a NOT NULL constraint in place, and rebuilding ``users`` the usual batch way would
drop the table while foreign keys are on (every migration runs in one transaction, where
``PRAGMA foreign_keys`` cannot be turned off): the DROP would cascade to sessions, memberships
and keys. So on SQLite the column is renamed, re-added nullable, copied and the old one dropped
(``ALTER TABLE`` only, SQLite >= 3.35), which touches no other table.
"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import create_table, drop_table, reference, timestamp

revision = "0009"
down_revision: str | None = "0014"

SOURCES = "'manual', 'provider'"  # authz.permissions.RoleSource


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _add_source(table: str, column: str) -> None:
    name = f"ck_{table}_{column}"
    if _sqlite():
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR(16) DEFAULT 'manual' NOT NULL "
            f"CONSTRAINT {name} CHECK ({column} IN ({SOURCES}))"
        )
        return
    op.add_column(table, sa.Column(column, sa.String(16), server_default="manual", nullable=False))
    op.create_check_constraint(op.f(name), table, f"{column} IN ({SOURCES})")


def _password_hash(*, nullable: bool) -> None:
    if not _sqlite():
        op.alter_column("users", "password_hash", existing_type=sa.String(255), nullable=nullable)
        return
    op.execute("ALTER TABLE users RENAME COLUMN password_hash TO password_hash_old")
    if nullable:
        op.execute("ALTER TABLE users ADD COLUMN password_hash VARCHAR(255)")
    else:
        op.execute("ALTER TABLE users ADD COLUMN password_hash VARCHAR(255) NOT NULL DEFAULT '!'")
    op.execute("UPDATE users SET password_hash = password_hash_old")
    op.execute("ALTER TABLE users DROP COLUMN password_hash_old")


def upgrade() -> None:
    _password_hash(nullable=True)
    _add_source("users", "role_source")
    _add_source("project_members", "source")
    op.add_column("user_sessions", sa.Column("sso_provider", sa.String(64), nullable=True))
    create_table(
        "user_identities",
        reference("user_id", "users", index=True),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        timestamp("last_login_at", nullable=True),
        unique=[("provider", "subject")],
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    """Downgrade schema. Single-sign-on accounts keep no usable password ('!' matches none)."""
    drop_table("user_identities", "ix_user_identities_user_id")
    op.execute("ALTER TABLE user_sessions DROP COLUMN sso_provider")
    for table, column in (("project_members", "source"), ("users", "role_source")):
        if not _sqlite():
            op.drop_constraint(op.f(f"ck_{table}_{column}"), table, type_="check")
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute("UPDATE users SET password_hash = '!' WHERE password_hash IS NULL")
    _password_hash(nullable=False)
