from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from playdeck.settings import Settings


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
