"""Text clean-up for report content, and sizes as people read them."""

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


def format_size(size: int) -> str:
    """``512 B``, ``1.5 KiB``, ``12.0 MiB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"
