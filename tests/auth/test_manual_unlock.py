"""The seed guide's manual unlock, run verbatim against the database (SQLite, and PostgreSQL when
``PLAYDECK_TEST_DATABASE_URL`` names a server). ``playdeck users unlock`` and the admin page's
Unlock stay the recommended ways; this statement is for an operator with only a SQL prompt."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from playdeck.models import User

from .support import PASSWORD, login

# Step 7 of the seed guide, character for character.
GUIDE_UNLOCK = (
    "UPDATE users SET failed_login_attempts=0, locked_until=NULL WHERE email='user@example.com';"
)


def test_the_guides_unlock_statement_lets_a_locked_user_sign_in(
    auth_client: TestClient, make_user: Callable[..., User], engine: Engine
) -> None:
    make_user("user", email="user@example.com")
    for _ in range(5):
        auth_client.post("/api/auth/login", json={"username": "user", "password": "wrong guess"})
    locked = auth_client.post("/api/auth/login", json={"username": "user", "password": PASSWORD})
    assert locked.status_code == 423

    with engine.begin() as connection:
        # exec_driver_sql: the statement reaches the driver as written, not as a bound template.
        result = connection.exec_driver_sql(GUIDE_UNLOCK)
    assert result.rowcount == 1

    assert login(auth_client, "user").response.status_code == 200
    with engine.connect() as connection:
        counter = connection.execute(
            text("SELECT failed_login_attempts FROM users WHERE email = 'user@example.com'")
        ).scalar_one()
    assert counter == 0
