"""Text clean-up for report content."""

from __future__ import annotations

import re

# CSI sequences (colours, cursor moves) and OSC sequences (hyperlinks) as test runners print them.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def clean_text(text: str | None, *, limit: int | None = None) -> str | None:
    """Strip ANSI codes and NUL bytes (PostgreSQL refuses them); cut to ``limit`` characters."""
    if text is None:
        return None
    text = strip_ansi(text).replace("\x00", "")
    if limit is not None and len(text) > limit:
        return text[:limit] + f"\n… [truncated {len(text) - limit} characters]"
    return text
