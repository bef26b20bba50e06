"""The owners chose Apache-2.0: the LICENSE file and every package's metadata say so."""

from __future__ import annotations

import json
import tomllib
from importlib.metadata import metadata
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_license_file_is_the_apache_license_2_0() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text


def test_python_package_declares_apache_2_0() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    assert metadata("playdeck")["License-Expression"] == "Apache-2.0"


def test_javascript_reporter_declares_apache_2_0() -> None:
    package = json.loads((ROOT / "clients/playwright-reporter/package.json").read_text())
    assert package["license"] == "Apache-2.0"
