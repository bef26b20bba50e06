from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import ValidationError

from playdeck.settings import Settings
from playdeck.system.startup import effective_configuration, log_configuration


def _settings(**env: Any) -> Settings:
    return Settings(_env_file=None, **env)


def test_defaults_are_sqlite_in_the_data_dir() -> None:
    settings = _settings()
    assert settings.port == 8001
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.effective_database_url.endswith("playdeck-data/playdeck.db")
    assert settings.require_auth is False


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (None, "required"),
        ("short", "at least 32"),
        ("your-secret-key-here", "at least 32"),
        ("x" * 32, "placeholder"),
    ],
)
def test_auth_on_refuses_missing_short_or_placeholder_secret(
    monkeypatch: pytest.MonkeyPatch, secret: str | None, reason: str
) -> None:
    monkeypatch.setenv("PLAYDECK_REQUIRE_AUTH", "true")
    if secret is not None:
        monkeypatch.setenv("PLAYDECK_SECRET_KEY", secret)
    with pytest.raises(ValidationError, match=reason):
        _settings()


@pytest.mark.parametrize(
    ("flag", "secret"),
    [("REQUIRE_AUTH", "JWT_SECRET_KEY"), ("NUXT_AUTH_ENABLED", "NUXT_AUTH_SECRET")],
)
def test_replaced_products_variable_names_are_accepted(
    monkeypatch: pytest.MonkeyPatch, flag: str, secret: str
) -> None:
    monkeypatch.setenv(flag, "true")
    monkeypatch.setenv(secret, "3f9c2a7e" * 4 + "1")
    settings = _settings()
    assert settings.require_auth is True
    assert settings.secret_key is not None


def test_trusted_proxies_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYDECK_TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16")
    assert _settings().trusted_proxies == ["10.0.0.1", "192.168.0.0/16"]


RETIRED = ("retired-key-one-0123456789abcdefghij", "retired-key-two-0123456789abcdefghij")


def test_previous_secret_keys_are_comma_separated_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYDECK_PREVIOUS_SECRET_KEYS", f" {RETIRED[0]}, ,{RETIRED[1]} ")
    keys = _settings().previous_secret_keys
    assert [key.get_secret_value() for key in keys] == list(RETIRED)
    assert all(RETIRED[0] not in text for text in (str(keys), repr(keys)))
    monkeypatch.delenv("PLAYDECK_PREVIOUS_SECRET_KEYS")
    assert _settings().previous_secret_keys == []


def test_previous_secret_keys_are_never_shown_or_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PLAYDECK_PREVIOUS_SECRET_KEYS", ",".join(RETIRED))
    settings = _settings(require_auth=True, secret_key="3f9c2a7e" * 4 + "1")
    config = effective_configuration(settings)
    assert config["previous_secret_keys"] == "(2 set)"
    assert (
        effective_configuration(_settings(previous_secret_keys=[]))["previous_secret_keys"] is None
    )
    with caplog.at_level(logging.INFO, logger="playdeck.startup"):
        log_configuration(settings, workers=1)
    for key in RETIRED:
        assert key not in str(config)
        assert key not in caplog.text
        assert key not in str(caplog.records[-1].__dict__)


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u:p@db:5432/pd", "postgresql+psycopg://u:p@db:5432/pd"),
        ("postgresql://u:p@db/pd", "postgresql+psycopg://u:p@db/pd"),
        ("postgresql+psycopg://u:p%40ss@db/pd", "postgresql+psycopg://u:p%40ss@db/pd"),
        ("postgres+psycopg://u@db/pd", "postgresql+psycopg://u@db/pd"),
        ("sqlite:////var/lib/playdeck/pd.db", "sqlite:////var/lib/playdeck/pd.db"),
        ("  ", None),
    ],
)
def test_database_urls_people_paste_are_accepted(
    monkeypatch: pytest.MonkeyPatch, given: str, used: str | None
) -> None:
    monkeypatch.setenv("PLAYDECK_DATABASE_URL", given)
    assert _settings().database_url == used


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("mysql://root@db/pd", "unsupported database 'mysql'"),
        ("oracle+cx_oracle://db/pd", "unsupported database 'oracle'"),
        ("db.example.com/playdeck", "is not a database URL"),
    ],
)
def test_other_databases_are_refused(
    monkeypatch: pytest.MonkeyPatch, given: str, reason: str
) -> None:
    monkeypatch.setenv("PLAYDECK_DATABASE_URL", given)
    with pytest.raises(ValidationError, match=reason):
        _settings()


def test_log_level_is_one_of_the_known_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYDECK_LOG_LEVEL", "DEBUG")
    assert _settings().log_level == "debug"
    monkeypatch.setenv("PLAYDECK_LOG_LEVEL", "verbose")
    with pytest.raises(ValidationError, match="'verbose' is not one of"):
        _settings()
