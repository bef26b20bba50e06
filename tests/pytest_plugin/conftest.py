"""Inner pytest sessions must see neither the developer's Playdeck settings nor a CI system's
variables (the outer suite may itself run on one): each test sets what it means to test."""

from __future__ import annotations

import pytest

PLUGIN_VARIABLES = (
    "PLAYDECK_URL",
    "PLAYDECK_SERVER_URL",
    "PLAYDECK_PROJECT",
    "PLAYDECK_API_KEY",
    "PLAYDECK_USERNAME",
    "PLAYDECK_PASSWORD",
)
CI_VARIABLES = ("GITHUB_ACTIONS", "GITLAB_CI", "CIRCLECI", "JENKINS_URL", "JENKINS_HOME")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PLUGIN_VARIABLES, *CI_VARIABLES):
        monkeypatch.delenv(name, raising=False)
