"""deploy/compose.yaml agrees with the image, the nginx recipe and the settings it relies on.

No container engine runs compose here; what can drift between these files is checked instead.
The image itself is built and run by test_container.py, the nginx recipe by test_proxies.py.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import make_url

from playdeck.settings import Settings

DEPLOY = Path(__file__).parents[2] / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def interpolated(value: str) -> str:
    """``value`` as compose would pass it, with a stand-in for each ``${VARIABLE...}``."""
    return re.sub(r"\$\{[^}]*\}", "stand-in", value)


def playdecks(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if name.startswith("playdeck-")}


def test_two_instances_of_the_repository_image_share_one_data_volume(
    compose: dict[str, Any],
) -> None:
    instances = playdecks(compose)
    assert len(instances) == 2
    for service in instances.values():
        assert service["build"] == {"context": "..", "dockerfile": "Dockerfile"}
        assert service["volumes"] == ["playdeck-data:/data"]
        assert service["env_file"] == [".env"]
    assert (DEPLOY.parent / "Dockerfile").exists()
    # The second starts after the first is healthy: one of them applies the migrations.
    assert compose["services"]["playdeck-2"]["depends_on"] == {
        "playdeck-1": {"condition": "service_healthy"}
    }


def test_instances_use_postgres_and_redis_with_persistence(compose: dict[str, Any]) -> None:
    services = compose["services"]
    postgres = services["postgres"]["environment"]
    for service in playdecks(compose).values():
        env = service["environment"]
        database_url = interpolated(env["PLAYDECK_DATABASE_URL"])
        url = make_url(database_url)
        assert (url.host, url.port, url.database, url.username) == (
            "postgres",
            5432,
            postgres["POSTGRES_DB"],
            postgres["POSTGRES_USER"],
        )
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            redis_url=env["PLAYDECK_REDIS_URL"],
        )
        assert settings.effective_database_url.startswith("postgresql+psycopg://")
        assert make_url(env["PLAYDECK_REDIS_URL"]).host == "redis"
    assert services["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    assert services["redis"]["volumes"] == ["redis-data:/data"]
    assert "--appendonly" in services["redis"]["command"]
    assert set(compose["volumes"]) == {"playdeck-data", "postgres-data", "redis-data"}


def test_only_the_proxy_is_trusted_and_it_runs_the_tested_nginx_recipe(
    compose: dict[str, Any],
) -> None:
    proxy = compose["services"]["proxy"]
    address = proxy["networks"]["default"]["ipv4_address"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    for service in playdecks(compose).values():
        assert service["environment"]["PLAYDECK_TRUSTED_PROXIES"] == address
    assert proxy["volumes"] == ["./nginx/playdeck.conf:/etc/nginx/conf.d/default.conf:ro"]
    upstreams = re.findall(
        r"^\s*server (\S+) ", (DEPLOY / "nginx" / "playdeck.conf").read_text(), re.M
    )
    assert upstreams == [f"{name}:8001" for name in playdecks(compose)]


def test_env_example_names_real_settings_and_the_required_secrets() -> None:
    names = [
        line.lstrip("# ").split("=", 1)[0]
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if "=" in line and re.match(r"#? ?[A-Z_]+=", line)
    ]
    assert {"PLAYDECK_SECRET_KEY", "PLAYDECK_ADMIN_PASSWORD", "POSTGRES_PASSWORD"} <= set(names)
    settings = {f"PLAYDECK_{field.upper()}" for field in Settings.model_fields}
    assert [n for n in names if n.startswith("PLAYDECK_") and n not in settings] == []
