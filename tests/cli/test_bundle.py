"""Which JSON file of a folder ``playdeck upload`` takes for the Playwright report: the one the
server's format registry would read as Playwright's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from playdeck.cli.bundle import BundleError, find_report

DATA = Path(__file__).parents[1] / "data"


def test_a_mochawesome_report_is_passed_over_for_the_playwright_one(tmp_path: Path) -> None:
    # report.json is the preferred name, so it is looked at first.
    shutil.copy(DATA / "mochawesome" / "mochawesome.json", tmp_path / "report.json")
    shutil.copy(DATA / "playwright" / "report.json", tmp_path / "results.json")

    path, data = find_report(tmp_path)

    assert path == tmp_path / "results.json"
    assert "suites" in data and "config" in data


def test_a_folder_with_only_a_mochawesome_report_has_none(tmp_path: Path) -> None:
    shutil.copy(DATA / "mochawesome" / "mochawesome.json", tmp_path / "report.json")
    with pytest.raises(BundleError, match="no Playwright JSON report found"):
        find_report(tmp_path)
