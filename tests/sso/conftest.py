"""Single-sign-on fixtures: the real OpenID provider (one per test session and xdist worker), an
SSO configuration file, and Playdeck clients on a loopback address the provider redirects to."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from playdeck.settings import Settings
from tests.fixtures.oidc_provider import OidcProvider, run_provider

# Playdeck as the provider's redirect sees it (the provider's clients accept any loopback port).
APP_URL = "http://127.0.0.1:8000"
RULES: list[dict[str, Any]] = [
    {"claim": "groups", "value": "qa-team", "project": "web", "project_role": "member"},
    {"claim": "groups", "value": "qa-leads", "project": "web", "project_role": "owner"},
    {"claim": "groups", "value": "playdeck-admins", "global_role": "admin"},
]


def _toml_value(value: Any) -> str:
    # JSON strings, booleans and lists of strings are TOML too.
    return json.dumps(value)


def write_sso_file(
    path: Path, providers: list[dict[str, Any]], rules: list[dict[str, Any]] | None = None
) -> Path:
    lines: list[str] = []
    for entry in providers:
        lines.append("[[providers]]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in entry.items()]
    for rule in RULES if rules is None else rules:
        lines.append("[[rules]]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in rule.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    with run_provider(tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


@pytest.fixture
def sso_settings(
    auth_settings: Callable[..., Settings], oidc_provider: OidcProvider, tmp_path: Path
) -> Callable[..., Settings]:
    """``sso_settings(rules=..., provider={...fields}, **settings)``: auth on, one provider
    ("test", the real one) configured through a file."""

    def factory(
        *,
        rules: list[dict[str, Any]] | None = None,
        provider: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> Settings:
        path = write_sso_file(
            tmp_path / f"sso-{len(list(tmp_path.glob('sso-*')))}.toml",
            [oidc_provider.provider_entry(**(provider or {}))],
            rules,
        )
        return auth_settings(oidc_config=path, **overrides)

    return factory


@pytest.fixture
def sso_client(
    make_client: Callable[..., TestClient], sso_settings: Callable[..., Settings]
) -> Callable[..., TestClient]:
    """A Playdeck client at ``APP_URL`` with the given SSO settings."""

    def factory(**options: Any) -> TestClient:
        return make_client(sso_settings(**options), base_url=APP_URL)

    return factory
