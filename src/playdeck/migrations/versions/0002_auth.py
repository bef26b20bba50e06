"""authentication: users, login sessions, refresh tokens, audit events

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import foreign_key, id_column, primary_key, reference, timestamp

revision = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    op.create_table(
        "users",
        id_column(),
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
        timestamp("created_at"),
        sa.CheckConstraint("role IN ('admin', 'reporter', 'user')", name=op.f("ck_users_role")),
        primary_key("users"),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        # AUTOINCREMENT: SQLite must never reuse a deleted row's id for users, sessions, events.
        sqlite_autoincrement=True,
    )
    # Case-insensitive uniqueness: an expression index works the same on SQLite and PostgreSQL.
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)

    op.create_table(
        "user_sessions",
        id_column(),
        reference("user_id"),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        timestamp("last_seen_at"),
        timestamp("expires_at"),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        timestamp("created_at"),
        foreign_key("user_sessions", "user_id", "users", ondelete="CASCADE"),
        primary_key("user_sessions"),
        sa.UniqueConstraint("public_id", name=op.f("uq_user_sessions_public_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"], unique=False)

    op.create_table(
        "refresh_tokens",
        id_column(),
        reference("session_id"),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        timestamp("expires_at"),
        timestamp("used_at", nullable=True),
        timestamp("created_at"),
        foreign_key("refresh_tokens", "session_id", "user_sessions", ondelete="CASCADE"),
        primary_key("refresh_tokens"),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_refresh_tokens_session_id", "refresh_tokens", ["session_id"], unique=False)

    op.create_table(
        "audit_events",
        id_column(),
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
        timestamp("created_at"),
        primary_key("audit_events"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_events_action_id", "audit_events", ["action", "id"], unique=False)
    op.create_index("ix_audit_events_actor_id_id", "audit_events", ["actor_id", "id"], unique=False)
    op.create_index(
        "ix_audit_events_target", "audit_events", ["target_type", "target_id", "id"], unique=False
    )
    op.create_index("ix_audit_events_created_at", "audit_events", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_events_created_at", table_name="audit_events")
    op.drop_index("ix_audit_events_target", table_name="audit_events")
    op.drop_index("ix_audit_events_actor_id_id", table_name="audit_events")
    op.drop_index("ix_audit_events_action_id", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_refresh_tokens_session_id", table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index("ix_user_sessions_user_id", table_name="user_sessions")
    op.drop_table("user_sessions")
    op.drop_index("uq_users_username_lower", table_name="users")
    op.drop_table("users")
