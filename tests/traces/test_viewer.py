"""Finding Playwright's Trace Viewer: the ``playwright`` package's copy, or a configured
playwright-core folder; nothing outside it is ever served."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from playdeck.traces.viewer import find_viewer, version_key, viewer_file


def _core(tmp_path: Path, version: str = "1.70.0") -> Path:
    """A playwright-core package as npm installs it, with the installed viewer's files."""
    installed = find_viewer(None)
    assert installed is not None
    core = tmp_path / "node_modules" / "playwright-core"
    shutil.copytree(installed.directory, core / "lib" / "vite" / "traceViewer")
    (core / "package.json").write_bytes(
        orjson.dumps({"name": "playwright-core", "version": version})
    )
    return core / "lib" / "vite" / "traceViewer"


def test_the_playwright_package_ships_the_viewer_playdeck_serves() -> None:
    viewer = find_viewer(None)
    assert viewer is not None
    assert (viewer.directory / "sw.bundle.js").is_file()
    assert viewer.directory.parts[-5:] == ("driver", "package", "lib", "vite", "traceViewer")
    assert version_key(viewer.version) >= (1, 45)


def test_a_configured_playwright_core_folder_wins(tmp_path: Path) -> None:
    viewer = find_viewer(_core(tmp_path))
    assert viewer is not None and viewer.version == "1.70.0"


@pytest.mark.parametrize("missing", ["index.html", "sw.bundle.js"])
def test_a_folder_that_is_no_viewer_is_no_viewer(tmp_path: Path, missing: str) -> None:
    directory = _core(tmp_path / missing)
    (directory / missing).unlink()
    assert find_viewer(directory) is None
    assert find_viewer(tmp_path / "nowhere") is None


def test_only_the_viewers_own_files_are_found(tmp_path: Path) -> None:
    viewer = find_viewer(_core(tmp_path))
    assert viewer is not None
    (tmp_path / "secret.txt").write_text("no")
    assert viewer_file(viewer, "index.html") == viewer.directory / "index.html"
    for path in ("../../../../../secret.txt", "/etc/passwd", "assets", "", "a\\b", "x\x00"):
        assert viewer_file(viewer, path) is None


def test_versions_compare_as_numbers() -> None:
    assert version_key("1.65.10") > version_key("1.65.2")
    assert version_key("1.66.0-next") == (1, 66, 0)
