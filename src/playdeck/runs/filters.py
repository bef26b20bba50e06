"""Parsing of the read API's query values: typed keyset cursors, choice lists, text search.

Every malformed value becomes a 422 ``InvalidInput`` here, so repositories only ever see values
of the right type (a cursor holding a string where an id belongs must not reach the database).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated

from fastapi import Path, Query

from playdeck.errors import InvalidInput
from playdeck.kit.pagination import (
    MAX_ID,
    as_utc,
    cursor_datetime,
    cursor_int,
    decode_cursor,
    encode_cursor,
)

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
# A list's paging and text search, the same on every list of the runs API.
SearchQuery = Annotated[str | None, Query(max_length=200, description="Text in title or file.")]


def time_id_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """Decode a ``(datetime, id)`` cursor, the key of every newest-first list."""
    raw = decode_cursor(cursor, arity=2)
    if raw is None:
        return None
    return cursor_datetime(raw[0]), cursor_int(raw[1])


def encode_time_id(at: datetime, row_id: int) -> str:
    return encode_cursor([as_utc(at).isoformat(), row_id])


def choices(value: str | None, allowed: Iterable[str], *, name: str) -> list[str] | None:
    """A comma-separated filter (``failed,flaky``): ``None`` when absent, 422 on unknown values."""
    if value is None or not value.strip():
        return None
    allowed_set = set(allowed)
    picked = list(dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip()))
    unknown = [part for part in picked if part not in allowed_set]
    if unknown:
        expected = ", ".join(sorted(allowed_set))
        raise InvalidInput(
            f"Unknown {name}: {', '.join(unknown)} (expected one of {expected})",
            code=f"invalid_{name}",
        )
    return picked


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` literally anywhere (escape character: backslash)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
