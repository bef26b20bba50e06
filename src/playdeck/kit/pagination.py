"""Opaque keyset cursors: the sort key of the last row, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from playdeck.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


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
