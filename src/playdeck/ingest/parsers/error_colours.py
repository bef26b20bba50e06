"""Playwright's code frame (``error.snippet``) and the coloured error message, ANSI kept.

Everything else a parser reads has its ANSI codes stripped (``reading.error_text``); these two
keep their colours because the run page shows them (``kit.ansi`` renders them as escaped HTML):
the Expected/Received colours and the frame's ``>`` marker are what a reader looks for. Only
SGR sequences (colours, bold) survive; cursor moves, hyperlinks and NUL bytes are removed.
"""

from __future__ import annotations

import re
from typing import Any

from playdeck.ingest.parsers.reading import MAX_ERROR_CHARS, JSONObject, loose_str

MAX_SNIPPET_CHARS = 8 * 1024
# Any escape sequence that is not SGR (``ESC [ params m``): removed.
_NOT_SGR = re.compile(
    r"\x1b\[(?![0-9;]*m)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b(?![\[\]])"
)


def coloured(text: str | None, limit: int) -> str | None:
    """``text`` with only its SGR codes kept, without NUL bytes, cut to ``limit`` characters;
    ``None`` when blank."""
    if not text or not text.strip():
        return None
    kept = _NOT_SGR.sub("", text).replace("\x00", "")
    return kept[:limit] if len(kept) > limit else kept


def keep_error_colours(error: JSONObject, extra: dict[str, Any]) -> None:
    """Store the error's code frame, and its message when it has colours, in ``extra``."""
    if snippet := coloured(loose_str(error, "snippet"), MAX_SNIPPET_CHARS):
        extra["snippet"] = snippet
    message = loose_str(error, "message")
    if message and "\x1b[" in message and (kept := coloured(message, MAX_ERROR_CHARS)):
        extra["error_ansi"] = kept
