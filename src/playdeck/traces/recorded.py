"""What a stored trace says about the Playwright that recorded it.

A trace is a zip of ``*.trace`` event files; the first event of each is ``context-options``,
with the trace format ``version`` and ``playwrightVersion``. Reading it costs the zip's central
directory and one short line, so the viewer page can say before loading that a trace is newer
than the viewer served here (which would refuse it: "The trace was created by a newer version of
Playwright and is not supported by this version of the viewer").
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

import orjson

MAX_FIRST_LINE = 64 * 1024
TRACE_MEDIA_TYPE = "application/zip"
_NUMBERED_TRACE = re.compile(r"trace-\d+\.zip")


@dataclass(frozen=True, slots=True)
class Recorded:
    playwright_version: str | None
    format_version: int | None


def is_trace(name: str, content_type: str) -> bool:
    """A Playwright trace attachment: a zip named ``trace`` (Playwright's own name for it) or
    ``….trace.zip`` / ``trace.zip`` (other runners' files), or ``trace-N.zip``
    (pytest-playwright's name for a test's Nth browser context)."""
    if content_type.split(";")[0].strip().lower() != TRACE_MEDIA_TYPE:
        return False
    base = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return (
        base in ("trace", "trace.zip")
        or base.endswith((".trace.zip", "-trace.zip"))
        or _NUMBERED_TRACE.fullmatch(base) is not None
    )


def read_recorded(handle: BinaryIO) -> Recorded | None:
    """The recording Playwright of a trace zip; ``None`` when it is not a readable trace."""
    try:
        with zipfile.ZipFile(handle) as archive:
            names = sorted(n for n in archive.namelist() if n.endswith(".trace"))
            for name in names:
                with archive.open(name) as entry:
                    line = entry.readline(MAX_FIRST_LINE)
                recorded = _context_options(line)
                if recorded is not None:
                    return recorded
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return None
    return None


def _context_options(line: bytes) -> Recorded | None:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(event, dict) or event.get("type") != "context-options":
        return None
    version = event.get("playwrightVersion")
    fmt = event.get("version")
    return Recorded(
        playwright_version=version if isinstance(version, str) and len(version) < 50 else None,
        format_version=fmt if isinstance(fmt, int) else None,
    )
