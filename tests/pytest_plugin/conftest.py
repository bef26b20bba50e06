"""Inner pytest sessions must see neither the developer's Playdeck settings nor a CI system's
variables (the outer suite may itself run on one): each test sets what it means to test."""

from __future__ import annotations

import pytest

from playdeck.kit.ci import CI_SYSTEMS

PLUGIN_VARIABLES = (
    "PLAYDECK_URL",
    "PLAYDECK_SERVER_URL",
    "PLAYDECK_PROJECT",
    "PLAYDECK_API_KEY",
    "PLAYDECK_USERNAME",
    "PLAYDECK_PASSWORD",
    "PLAYDECK_RUN_KEY",
    "PLAYDECK_SHARD",
    "PLAYDECK_LIVE",
)
# Every system's "this is a CI job" variables (kit/ci.py's table).
CI_VARIABLES = tuple(name for system in CI_SYSTEMS for name in system.detect)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PLUGIN_VARIABLES, *CI_VARIABLES):
        monkeypatch.delenv(name, raising=False)
