"""Opaque keyset cursors: the sort key of the last row, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

import orjson

from playdeck.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
# Ids arrive in paths and cursors; bound them so an oversized integer is a 422, not an overflow.
MAX_ID = 2**63 - 1


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, arity: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError, orjson.JSONDecodeError) as exc:
        raise InvalidInput("Invalid cursor", code="invalid_cursor") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise InvalidInput("Invalid cursor", code="invalid_cursor")
    return values


def _bad_cursor() -> InvalidInput:
    return InvalidInput("Invalid cursor", code="invalid_cursor")


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive value is taken to be UTC already. A time whose UTC equivalent falls
    outside the calendar (``0001-01-01T00:00:00+14:00``) is a 422, not an ``OverflowError``."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput("Time is out of range", code="invalid_time") from None


def cursor_int(value: object) -> int:
    # bool is an int subclass; a cursor never holds one.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise _bad_cursor()
    return value


def cursor_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise _bad_cursor()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise _bad_cursor() from exc
    return as_utc(parsed)


def cursor_str(value: object) -> str:
    if not isinstance(value, str):
        raise _bad_cursor()
    return value
