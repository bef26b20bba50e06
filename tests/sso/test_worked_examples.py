"""The worked examples of docs/security.md (Keycloak, Entra ID) load with Playdeck's own
loader, environment included, and their rules grant what the text says: ``qa-team`` a member
of ``web``, ``qa-leads`` its owner, password sign-in only for the break-glass admin. The files
and the environment are read out of the document, so the examples cannot drift from the code."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from playdeck.authz.permissions import ProjectRole
from playdeck.settings import Settings
from playdeck.sso import roles

SECURITY_MD = Path(__file__).resolve().parents[2] / "docs" / "security.md"
EXAMPLES = {
    "keycloak": "### Worked example: Keycloak",
    "entra": "### Worked example: Microsoft Entra ID",
}
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _blocks(heading: str) -> dict[str, str]:
    """The fenced blocks of one example section, by language (one of each)."""
    text = SECURITY_MD.read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n## ", start)
    following = text.find("\n### ", start + len(heading))
    section = text[start : min(p for p in (end, following) if p != -1)]
    blocks: dict[str, str] = {}
    for language, body in FENCE.findall(section):
        assert language not in blocks, f"{heading}: two {language} blocks"
        blocks[language] = body
    return blocks


def _environment(block: str) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in block.splitlines() if line.strip()]
    return {name.strip(): value.strip() for name, value in pairs}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_a_worked_example_loads_and_maps_the_qa_groups_to_the_web_project(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    auth_settings: Callable[..., Settings],
) -> None:
    blocks = _blocks(EXAMPLES[name])
    assert set(blocks) == {"toml", "sh"}
    environment = _environment(blocks["sh"])
    config = tmp_path / "sso.toml"
    config.write_text(blocks["toml"], encoding="utf-8")
    assert environment.pop("PLAYDECK_OIDC_CONFIG") == "/etc/playdeck/sso.toml"
    monkeypatch.setenv("PLAYDECK_OIDC_CONFIG", str(config))
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)

    settings = auth_settings()  # the rest comes from the environment, as in production
    assert settings.oidc_config == config
    [provider] = settings.sso.providers
    assert provider.name == name
    assert provider.secret() == environment[provider.client_secret_env or ""]
    assert "openid" in provider.scopes and provider.allowed_domains == ["acme.example"]
    assert settings.public_url == "https://playdeck.acme.example"

    rules = settings.sso.rules
    [claim] = {rule.claim for rule in rules}
    assert roles.project_roles(rules, {claim: ["qa-team"]}, name) == {"web": ProjectRole.MEMBER}
    assert roles.project_roles(rules, {claim: ["qa-leads"]}, name) == {"web": ProjectRole.OWNER}
    assert roles.project_roles(rules, {claim: ["qa-team", "qa-leads"]}, name) == {
        "web": ProjectRole.OWNER
    }
    assert roles.project_roles(rules, {claim: ["everyone"]}, name) == {}
    assert roles.global_role(rules, {claim: ["qa-leads"]}, name) is None

    assert settings.password_sign_in is False
    assert settings.password_sign_in_allowed("breakglass")
    assert not settings.password_sign_in_allowed("alice")


def test_the_examples_callback_paths_name_their_providers() -> None:
    text = SECURITY_MD.read_text(encoding="utf-8")
    for name in EXAMPLES:
        assert f"https://playdeck.acme.example/auth/sso/{name}/callback" in text
