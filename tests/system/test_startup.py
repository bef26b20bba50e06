"""What ``serve`` prepares once before serving, run in this process on the suite's database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from playdeck.models import User
from playdeck.settings import Settings
from playdeck.system.startup import (
    StartupError,
    effective_configuration,
    log_configuration,
    prepare,
    safe_url,
    upgrade_database,
)

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "violet tangerine hovercraft"


def test_prepare_creates_the_data_dir_and_the_env_admin_once(
    make_settings: Callable[..., Settings], engine: Engine, tmp_path: Path
) -> None:
    settings = make_settings(
        data_dir=tmp_path / "new" / "data",
        require_auth=True,
        secret_key=SECRET,
        admin_username="boss",
        admin_password=PASSWORD,
    )
    prepare(settings)
    prepare(settings)  # a restart: nothing more
    assert (tmp_path / "new" / "data").is_dir()
    with Session(engine) as session:
        assert session.scalars(select(User.username)).all() == ["boss"]


def test_prepare_refuses_a_weak_env_admin_password_in_one_line(
    make_settings: Callable[..., Settings], engine: Engine
) -> None:
    settings = make_settings(require_auth=True, secret_key=SECRET, admin_password="weak")
    with pytest.raises(StartupError) as refused:
        prepare(settings)
    assert "PLAYDECK_ADMIN_* rejected" in str(refused.value)
    assert "\n" not in str(refused.value)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_upgrade_database_reports_an_unreachable_database(
    make_settings: Callable[..., Settings], unused_port: int
) -> None:
    settings = make_settings(database_url=f"postgresql://u:hunter2@127.0.0.1:{unused_port}/pd")
    with pytest.raises(StartupError, match=f"cannot use the database at 127.0.0.1:{unused_port}"):
        upgrade_database(settings)


def test_upgrade_database_logs_an_up_to_date_schema(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="playdeck.startup"):
        upgrade_database(settings)
    assert any("database schema is up to date" in r.getMessage() for r in caplog.records)


def test_effective_configuration_never_shows_a_secret(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        database_url="postgresql://playdeck:hunter2@db/playdeck",
        redis_url="redis://:redispass@redis:6379/0",
        require_auth=True,
        secret_key=SECRET,
        admin_password=PASSWORD,
        metrics_token="metrics-token-0123456789",
    )
    config = effective_configuration(settings)
    assert config["secret_key"] == config["admin_password"] == config["metrics_token"] == "(set)"
    assert config["database_url"] == "postgresql+psycopg://playdeck:***@db/playdeck"
    assert config["redis_url"] == "redis://:***@redis:6379/0"
    with caplog.at_level(logging.INFO, logger="playdeck.startup"):
        log_configuration(settings, workers=3)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "with 3 workers" in text
    for secret in (SECRET, PASSWORD, "hunter2", "redispass", "metrics-token-0123456789"):
        assert secret not in text
        assert secret not in str(caplog.records[-1].__dict__)


def test_safe_url_hides_passwords_and_survives_garbage() -> None:
    assert safe_url("postgresql://a:b@h/d") == "postgresql://a:***@h/d"
    assert safe_url("::not a url::") == "<unparseable URL>"
