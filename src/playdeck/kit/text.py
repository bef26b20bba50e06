"""Text clean-up for report content, what a database can store, and sizes as people read
them."""

from __future__ import annotations

import re
from typing import Any, overload

import orjson

# CSI sequences (colours, cursor moves) and OSC sequences (hyperlinks) as test runners print them.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@overload
def clean_text(text: str, *, limit: int | None = None) -> str: ...
@overload
def clean_text(text: None, *, limit: int | None = None) -> None: ...
@overload
def clean_text(text: str | None, *, limit: int | None = None) -> str | None: ...
def clean_text(text: str | None, *, limit: int | None = None) -> str | None:
    """Strip ANSI codes and NUL bytes (PostgreSQL refuses them); cut to ``limit`` characters."""
    if text is None:
        return None
    # Most report text has neither (an ingest cleans ~100,000 strings): skip the scans then.
    if "\x1b" in text:
        text = strip_ansi(text)
    if "\x00" in text:
        text = text.replace("\x00", "")
    if limit is not None and len(text) > limit:
        return text[:limit] + f"\n… [truncated {len(text) - limit} characters]"
    return text


class UnstorableText(ValueError):
    """Text no database column can hold: a NUL character (PostgreSQL refuses it in text and
    JSON; SQLite would cut strings at it in places), or a lone surrogate (not valid Unicode, so
    not encodable as UTF-8)."""


# An escaped NUL in orjson output: "\u0000" preceded by an even number of backslashes (an odd
# number would make it the text "\u0000", backslash included, which is fine).
_JSON_NUL = re.compile(rb"(?:^|[^\\])(?:\\\\)*\\u0000")


def storable(value: str) -> bool:
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable_text(value: str) -> str:
    """``value``, or ``UnstorableText`` if a database cannot hold it: for text checked where it
    is made (bulk ingest rows, ``ingest.rows``) instead of by the engine (``check_storable``)."""
    if "\x00" in value or not value.isascii():
        _check_text(value)
    return value


def check_storable(value: Any) -> None:
    """Raise ``UnstorableText`` for a string (or a row, or rows, of them) a database cannot
    hold. The engine passes every statement's parameters through here (``db.py``), so the
    common case is one tight loop; bulk ingest rows are checked where they are made."""
    if isinstance(value, str):
        _check_text(value)
    elif isinstance(value, dict):
        for item in value.values():
            check_storable(item)
    elif isinstance(value, (tuple, list)):
        for item in value:
            if item.__class__ is str:
                if "\x00" in item or not item.isascii():
                    _check_text(item)
            elif isinstance(item, (tuple, list, dict)):
                check_storable(item)


def _check_text(value: str) -> None:
    if not storable(value):
        raise UnstorableText(value[:40])


def dumps_storable(value: Any) -> str:
    """JSON text for a JSON column; ``UnstorableText`` if it would hold a NUL or a surrogate."""
    try:
        encoded = orjson.dumps(value)
    except orjson.JSONEncodeError as exc:
        raise UnstorableText(str(exc)) from None
    # The regular expression only for the rare text that holds the escape at all.
    if b"\\u0000" in encoded and _JSON_NUL.search(encoded):
        raise UnstorableText("NUL in JSON")
    return encoded.decode()


def format_size(size: int) -> str:
    """``512 B``, ``1.5 KiB``, ``12.0 MiB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"
