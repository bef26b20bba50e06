"""The providers file is validated whole when the settings load: each mistake is one line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from playdeck.settings import Settings

from .conftest import write_sso_file

PROVIDER: dict[str, Any] = {
    "name": "corp",
    "label": "Sign in with Corp",
    "issuer": "https://sso.corp.example/realms/corp",
    "client_id": "playdeck",
    "client_secret": "corp-client-secret",
}


def _load(
    auth_settings: Callable[..., Settings],
    tmp_path: Path,
    providers: list[dict[str, Any]],
    rules: list[dict[str, Any]] | None = None,
) -> Settings:
    path = write_sso_file(tmp_path / "sso.toml", providers, rules or [])
    return auth_settings(oidc_config=path)


def test_a_valid_file_gives_providers_rules_and_their_origins(
    auth_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    rule = {"value": "qa", "project": "web", "project_role": "member"}
    settings = _load(auth_settings, tmp_path, [PROVIDER], [rule])
    corp = settings.sso.provider("corp")
    assert corp is not None and corp.secret() == "corp-client-secret"
    assert corp.scopes == ["openid", "email", "profile"]
    assert settings.sso.rules[0].claim == "groups"
    assert settings.sso.origins() == ["https://sso.corp.example"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"issuer": "http://sso.corp.example"}, "must use https"),
        ({"issuer": "https://sso.corp.example/?x=1"}, "without query"),
        ({"scopes": ["email"]}, "must include 'openid'"),
        ({"allowed_domains": ["not a domain"]}, "is not a domain name"),
        ({"client_secret": None, "client_secret_env": "PLAYDECK_NO_SUCH_SECRET"}, "is empty"),
        ({"name": "Corp!"}, "name"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_a_mistake_in_a_provider_stops_the_settings(
    auth_settings: Callable[..., Settings],
    tmp_path: Path,
    change: dict[str, Any],
    message: str,
) -> None:
    provider = {k: v for k, v in {**PROVIDER, **change}.items() if v is not None}
    with pytest.raises(ValidationError, match="PLAYDECK_OIDC_CONFIG") as refused:
        _load(auth_settings, tmp_path, [provider])
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"value": "qa", "project": "web"}, "give both project and project_role"),
        ({"value": "qa"}, "give either global_role or project"),
        (
            {"value": "qa", "global_role": "admin", "project": "web", "project_role": "owner"},
            "give either global_role or project",
        ),
        ({"value": "qa", "global_role": "root"}, "global_role"),
        ({"value": "qa", "global_role": "admin", "provider": "nope"}, "unknown provider"),
    ],
)
def test_a_mistake_in_a_rule_stops_the_settings(
    auth_settings: Callable[..., Settings], tmp_path: Path, rule: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _load(auth_settings, tmp_path, [PROVIDER], [rule])


def test_an_unreadable_file_stops_the_settings(
    auth_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[[providers]\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid TOML"):
        auth_settings(oidc_config=broken)
    with pytest.raises(ValidationError, match="cannot read"):
        auth_settings(oidc_config=tmp_path / "missing.toml")
