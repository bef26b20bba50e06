"""What a stored trace says about the Playwright that recorded it, read from the real traces of
``tests/data/playwright`` (Playwright 1.65.1) and from broken ones."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from playdeck.traces.recorded import Recorded, is_trace, read_recorded

TRACE = (
    Path(__file__).parents[1]
    / "data"
    / "playwright"
    / "test-results"
    / "outcomes-failing-expectation-chromium"
    / "trace.zip"
)


def _zip(entries: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def test_a_real_trace_names_its_playwright() -> None:
    with TRACE.open("rb") as handle:
        assert read_recorded(handle) == Recorded(playwright_version="1.65.1", format_version=10)


@pytest.mark.parametrize(
    "data",
    [
        b"not a zip",
        _zip({"readme.txt": b"hi"}).getvalue(),
        _zip({"0-trace.trace": b"{not json"}).getvalue(),
        _zip({"0-trace.trace": b'{"type":"before"}\n'}).getvalue(),
    ],
)
def test_anything_else_is_no_trace(data: bytes) -> None:
    assert read_recorded(io.BytesIO(data)) is None


def test_junk_versions_are_dropped() -> None:
    line = b'{"type":"context-options","version":"x","playwrightVersion":"' + b"9" * 60 + b'"}'
    assert read_recorded(_zip({"a.trace": line})) == Recorded(None, None)


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("trace", "application/zip", True),
        ("test-results/x/trace.zip", "application/zip", True),
        ("login.trace.zip", "Application/Zip; charset=binary", True),
        ("trace-2.zip", "application/zip", True),  # pytest-playwright, a second context
        ("trace-2.zip.bak", "application/zip", False),
        ("trace", "image/png", False),
        ("report.zip", "application/zip", False),
    ],
)
def test_which_attachments_are_traces(name: str, content_type: str, expected: bool) -> None:
    assert is_trace(name, content_type) is expected
