"""authentication: users, login sessions, refresh tokens, audit events"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import (
    create_table,
    drop_table,
    one_time_token,
    reference,
    secret_hash,
    timestamp,
)

revision = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    create_table(
        "users",
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("failed_login_count", sa.Integer(), nullable=False),
        timestamp("locked_until", nullable=True),
        timestamp("last_login_at", nullable=True),
        timestamp("password_changed_at"),
        timestamp("updated_at"),
        sa.CheckConstraint("role IN ('admin', 'reporter', 'user')", name=op.f("ck_users_role")),
        unique=["email"],
        # AUTOINCREMENT: SQLite must never reuse a deleted row's id for users, sessions, events.
        sqlite_autoincrement=True,
    )
    # Case-insensitive uniqueness: an expression index works the same on SQLite and PostgreSQL.
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)

    create_table(
        "user_sessions",
        reference("user_id", "users", index=True),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        secret_hash("token_hash"),
        timestamp("last_seen_at"),
        timestamp("expires_at"),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        unique=["public_id"],
        sqlite_autoincrement=True,
    )
    create_table(
        "refresh_tokens",
        reference("session_id", "user_sessions", index=True),
        *one_time_token(),
        sqlite_autoincrement=True,
    )
    create_table(
        "audit_events",
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("actor_type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=True),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.BigInteger(), nullable=True),
        sa.Column("target_name", sa.String(length=200), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        indexes={
            "ix_audit_events_action_id": ["action", "id"],
            "ix_audit_events_actor_id_id": ["actor_id", "id"],
            "ix_audit_events_target": ["target_type", "target_id", "id"],
            "ix_audit_events_created_at": ["created_at"],
        },
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    drop_table(
        "audit_events",
        "ix_audit_events_created_at",
        "ix_audit_events_target",
        "ix_audit_events_actor_id_id",
        "ix_audit_events_action_id",
    )
    drop_table("refresh_tokens", "ix_refresh_tokens_session_id")
    drop_table("user_sessions", "ix_user_sessions_user_id")
    drop_table("users", "uq_users_username_lower")
