"""What pytest-playwright leaves for a test: the browser it ran in, and its artifacts.

Read on the process that ran the test (an xdist worker, or the only process), where the item is,
when the teardown report is made: pytest-playwright has then moved the test's files into place.

pytest-playwright parametrizes every browser test with ``browser_name`` (one test per
``--browser``; the id is the browser's name) and gives each test an ``output_path`` folder
under ``--output`` (default ``test-results``), named after the slugified node id, with a
``-retryN`` suffix for the reruns of pytest-rerunfailures (0.10 and later; earlier versions
reuse one folder). In it, when kept (``on``, or ``retain-on-failure``/``only-on-failure`` and
the test failed):

- ``trace.zip`` (``trace-N.zip`` with several browser contexts) from ``--tracing``;
- ``test-failed-N.png`` or ``test-finished-N.png``, one per page, from ``--screenshot``;
- ``video.webm`` (``video-N.webm`` with several pages) from ``--video``.

The folder comes from the ``output_path`` fixture's own value, so the naming rule (slug,
truncation, retry suffix) is pytest-playwright's, whatever its version.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

BROWSER_PARAMETER = "browser_name"
OUTPUT_FIXTURE = "output_path"
MAX_ARTIFACTS_PER_ATTEMPT = 50

# The content types Playwright's own reporters give these files.
CONTENT_TYPES = {
    ".zip": "application/zip",
    ".png": "image/png",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".webm": "video/webm",
    ".mp4": "video/mp4",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def browser_of(item: pytest.Item) -> str | None:
    """The browser pytest-playwright ran ``item`` in, if it is a browser test."""
    callspec = getattr(item, "callspec", None)
    browser = getattr(callspec, "params", {}).get(BROWSER_PARAMETER)
    return browser if isinstance(browser, str) and browser else None


def title_without_browser(item: pytest.Item, browser: str) -> str:
    """``item``'s name with the browser left out of its parametrize id (``test_cart[chromium]``
    is ``test_cart``, ``test_total[chromium-eur]`` is ``test_total[eur]``): the browser is the
    test's project, as for a JavaScript Playwright test, not part of its title."""
    name = item.name
    base, bracket, _params = name.partition("[")
    if not bracket:
        return name
    callspec = getattr(item, "callspec", None)
    ids = getattr(callspec, "_idlist", None)  # one id per parametrize call, in order
    if isinstance(ids, list) and browser in ids:
        rest = list(ids)
        rest.remove(browser)
        params = "-".join(str(i) for i in rest)
    else:
        whole = name[len(base) + 1 : -1]
        parts = whole.split("-")
        params = "-".join(p for p in parts if p != browser) if browser in parts else whole
    return f"{base}[{params}]" if params else base


def artifacts_of(item: pytest.Item) -> list[str]:
    """The files in this attempt's pytest-playwright output folder (absolute paths, sorted)."""
    funcargs = getattr(item, "funcargs", None) or {}
    folder = funcargs.get(OUTPUT_FIXTURE)
    if not isinstance(folder, str | os.PathLike):
        return []
    try:
        entries = sorted(Path(folder).iterdir())
    except OSError:  # nothing kept: no folder
        return []
    files = [str(entry.absolute()) for entry in entries if entry.is_file()]
    return files[:MAX_ARTIFACTS_PER_ATTEMPT]


def content_type(path: str) -> str:
    return CONTENT_TYPES.get(Path(path).suffix.lower(), DEFAULT_CONTENT_TYPE)
