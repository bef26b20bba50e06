"""Where Playwright's Trace Viewer is, and which Playwright it came with.

Playdeck ships no copy of the viewer: it serves the one a well-kept package ships. In order:
``PLAYDECK_TRACE_VIEWER_DIR`` (e.g. ``node_modules/playwright-core/lib/vite/traceViewer``), or
the copy inside the ``playwright`` Python package (``pip install 'playdeck[traces]'``), at
``playwright/driver/package/lib/vite/traceViewer``. Both layouts keep playwright-core's
``package.json`` two folders up, which gives the viewer's version.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import orjson

WHEEL_VIEWER = ("driver", "package", "lib", "vite", "traceViewer")
# Files every viewer release has: the page and the service worker that reads the trace.
REQUIRED = ("index.html", "sw.bundle.js")
_VERSION = re.compile(r"^\d+(\.\d+){0,3}([-+][0-9A-Za-z.-]{1,40})?$")


@dataclass(frozen=True, slots=True)
class TraceViewer:
    directory: Path
    # The Playwright release the viewer belongs to: it opens traces recorded by that release
    # and every older one.
    version: str


def _wheel_viewer() -> Path | None:
    spec = importlib.util.find_spec("playwright")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent.joinpath(*WHEEL_VIEWER)


def _version(directory: Path) -> str | None:
    manifest = directory.parents[2] / "package.json" if len(directory.parents) > 2 else None
    if manifest is None or not manifest.is_file():
        return None
    try:
        version = orjson.loads(manifest.read_bytes()).get("version")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return version if isinstance(version, str) and _VERSION.match(version) else None


@cache
def _load(directory: Path) -> TraceViewer | None:
    resolved = directory.resolve()
    if not all((resolved / name).is_file() for name in REQUIRED):
        return None
    version = _version(resolved)
    return None if version is None else TraceViewer(resolved, version)


def find_viewer(configured: Path | None) -> TraceViewer | None:
    """The viewer to serve, ``None`` when there is none (or it is not a viewer folder)."""
    directory = configured if configured is not None else _wheel_viewer()
    return None if directory is None else _load(directory)


def viewer_file(viewer: TraceViewer, path: str) -> Path | None:
    """A file of the viewer by its relative path; never anything outside its folder."""
    if not path or "\\" in path or "\x00" in path:
        return None
    candidate = (viewer.directory / path).resolve()
    if not candidate.is_relative_to(viewer.directory) or not candidate.is_file():
        return None
    return candidate


def version_key(version: str) -> tuple[int, ...]:
    """``"1.65.2"`` -> ``(1, 65, 2)``; a pre-release sorts with its release."""
    return tuple(int(part) for part in re.findall(r"\d+", version.split("-")[0].split("+")[0]))
