"""Start-up: refuse unsafe secrets; create the first administrator from the environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from playdeck.app import create_app
from playdeck.cli.main import app as cli
from playdeck.models import AuditEvent, User
from playdeck.settings import Settings, UnsafeSettingsError

from .support import PASSWORD, SECRET, login


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("PLAYDECK_SECRET_KEY", "JWT_SECRET_KEY", "NUXT_AUTH_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"PLAYDECK_REQUIRE_AUTH": "true"}, "PLAYDECK_SECRET_KEY is required"),
        ({"REQUIRE_AUTH": "true", "JWT_SECRET_KEY": "too-short"}, "at least 32 characters"),
        (
            {
                "NUXT_AUTH_ENABLED": "true",
                "NUXT_AUTH_SECRET": "your-secret-key-change-in-production",
            },
            "known placeholder",
        ),
        (
            {"PLAYDECK_REQUIRE_AUTH": "1", "PLAYDECK_SECRET_KEY": "ab" * 20},
            "too predictable",
        ),
    ],
)
def test_serve_refuses_to_start_with_a_one_line_reason(
    runner: CliRunner, tmp_path: Path, env: dict[str, str], reason: str
) -> None:
    env = {**env, "PLAYDECK_DATA_DIR": str(tmp_path / "data")}
    result = runner.invoke(cli, ["serve", "--port", "1"], env=env)
    assert result.exit_code != 0
    message = result.output.strip()
    assert reason in message
    assert len(message.splitlines()) == 1
    assert not (tmp_path / "data").exists()  # nothing was started or migrated


def test_env_admin_is_created_on_start_and_can_sign_in(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    db: Session,
) -> None:
    client = make_client(
        auth_settings(
            admin_username="boss", admin_email="Boss@Example.com", admin_password=PASSWORD
        )
    )
    user = db.scalars(select(User)).one()
    assert (user.username, user.email, user.role) == ("boss", "boss@example.com", "admin")
    assert login(client, "boss").body["user"]["is_superuser"] is True
    created = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.created")).one()
    assert created.details["via"] == "environment"


def test_jwt_login_api_initial_admin_variables_are_honoured(
    monkeypatch: pytest.MonkeyPatch,
    make_client: Callable[[Settings], TestClient],
    make_settings: Callable[..., Settings],
) -> None:
    monkeypatch.setenv("INITIAL_ADMIN_EMAIL", "admin@yourcompany.com")
    monkeypatch.setenv("INITIAL_ADMIN_PASSWORD", "your-secure-password")
    monkeypatch.setenv("REQUIRE_AUTH", "true")
    monkeypatch.setenv("JWT_SECRET_KEY", SECRET)
    client = make_client(make_settings())
    response = client.post(
        "/auth/login", json={"email": "admin@yourcompany.com", "password": "your-secure-password"}
    )
    assert response.status_code == 200
    assert response.json()["user"]["role"] == "admin"


def test_env_admin_is_ignored_once_users_exist(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
    db: Session,
) -> None:
    make_user("existing")
    make_client(auth_settings(admin_username="boss", admin_password=PASSWORD))
    assert db.scalars(select(User.username)).all() == ["existing"]


def test_env_admin_with_a_weak_password_stops_the_start(
    auth_settings: Callable[..., Settings], db: Session
) -> None:
    app = create_app(auth_settings(admin_username="boss", admin_password="weak"))
    try:
        with pytest.raises(UnsafeSettingsError, match="at least 15 characters"):
            TestClient(app).__enter__()
    finally:
        app.state.engine.dispose()  # the failed start never reached its shutdown
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_secret_never_appears_in_settings_repr() -> None:
    settings = Settings(_env_file=None, require_auth=True, secret_key=SECRET)
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("trusted_proxies", "10.0.0.1, not-an-ip", "not an IP address"),
        ("login_rate_limit", "lots", "not a rate limit"),
    ],
)
def test_auth_settings_are_validated(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        values: dict[str, Any] = {field: value}
        Settings(_env_file=None, **values)
