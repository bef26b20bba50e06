"""Migration 0016 on both databases: existing emails count as verified (single sign-on linked by
them before), users without one stay unverified, and adding the column keeps every row that
points at ``users`` (no table rebuild on SQLite)."""

from __future__ import annotations

from alembic.command import downgrade
from sqlalchemy import Engine, text

from playdeck.migrations import alembic_config, upgrade
from tests.sso.test_migration import NOW, fresh_engine

__all__ = ["fresh_engine"]  # the fixture, for the tests below


def _seed(engine: Engine) -> None:
    with engine.begin() as conn:
        for user_id, email in ((1, "alice@example.com"), (2, None)):
            conn.execute(
                text(
                    "INSERT INTO users (id, username, email, role, is_active, password_hash, "
                    "failed_login_attempts, password_changed_at, created_at, updated_at) "
                    "VALUES (:id, :name, :email, 'user', true, 'x', 0, :t, :t, :t)"
                ),
                {"id": user_id, "name": f"u{user_id}", "email": email, "t": NOW},
            )
        conn.execute(
            text(
                "INSERT INTO user_sessions (public_id, user_id, token_hash, last_seen_at, "
                "expires_at, created_at) VALUES ('p1', 1, 'h1', :t, :t, :t)"
            ),
            {"t": NOW},
        )


def test_existing_emails_count_as_verified_and_every_row_stays(fresh_engine: Engine) -> None:
    upgrade(fresh_engine, "0017")
    _seed(fresh_engine)
    upgrade(fresh_engine, "0016")
    with fresh_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, email_verified_at IS NOT NULL FROM users ORDER BY id")
        ).all()
        assert [tuple(r) for r in rows] == [(1, True), (2, False)]
        assert conn.execute(text("SELECT count(*) FROM user_sessions")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM email_verifications")).scalar_one() == 0

    downgrade(alembic_config(fresh_engine), "0017")
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 2
        assert conn.execute(text("SELECT count(*) FROM user_sessions")).scalar_one() == 1
