"""How parsers read decoded JSON: typed field access whose errors name the field path.

Shared by every parser, together with the few rules all formats agree on (timestamps, attempt
statuses, bounds on free-form content).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import UTC, datetime
from typing import Any

import orjson

from playdeck.ingest.records import ReportFormatError
from playdeck.kit.text import clean_text
from playdeck.outcomes import AttemptStatus

JSONObject = dict[str, Any]

# Error messages and stacks are kept whole for diagnosis up to this many characters each.
MAX_ERROR_CHARS = 32 * 1024
# Steps kept per attempt (Playwright can record thousands of low-level steps).
MAX_STEPS = 200
MAX_STEP_TITLE_CHARS = 500
# Free-form metadata copied into a run, serialised, is cut to this size.
MAX_METADATA_BYTES = 64 * 1024

# Epoch milliseconds outside this range are not timestamps of a test run (years 2000..2200).
_MIN_EPOCH_MS = 946_684_800_000
_MAX_EPOCH_MS = 7_258_118_400_000
_ATTEMPT_STATUSES = frozenset(AttemptStatus)


def at(path: str, key: str | int) -> str:
    """Field path of ``key`` under ``path``: ``suites[2].specs``, ``specs[0]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def fail(path: str, problem: str) -> ReportFormatError:
    return ReportFormatError(f"{path or 'report'}: {problem}")


def describe(value: object) -> str:
    """The JSON type of ``value`` in words, for error messages (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def as_object(value: object, path: str) -> JSONObject:
    if not isinstance(value, dict):
        raise fail(path, f"expected an object, got {describe(value)}")
    return value


def as_list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise fail(path, f"expected an array, got {describe(value)}")
    return value


def as_str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise fail(path, f"expected a string, got {describe(value)}")
    return value


def as_number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(path, f"expected a number, got {describe(value)}")
    if not math.isfinite(value):
        raise fail(path, "expected a finite number")
    return float(value)


def as_int(value: object, path: str) -> int:
    number = as_number(value, path)
    if not number.is_integer():
        raise fail(path, "expected an integer")
    return int(number)


def required(obj: JSONObject, key: str, path: str) -> Any:
    if key not in obj or obj[key] is None:
        raise fail(path, f"missing '{key}'")
    return obj[key]


# The field readers below check the common, well-typed case first and build the field's path
# only to report an error: a large report has hundreds of thousands of fields.


def req_str(obj: JSONObject, key: str, path: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else as_str(required(obj, key, path), at(path, key))


def req_list(obj: JSONObject, key: str, path: str) -> list[Any]:
    value = obj.get(key)
    return value if isinstance(value, list) else as_list(required(obj, key, path), at(path, key))


def opt_str(obj: JSONObject, key: str, path: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    return as_str(value, at(path, key))


def opt_number(obj: JSONObject, key: str, path: str, default: float = 0.0) -> float:
    value = obj.get(key)
    if value is None:
        return default
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return float(value)
    return as_number(value, at(path, key))


def opt_int(obj: JSONObject, key: str, path: str, default: int = 0) -> int:
    value = obj.get(key)
    if value is None:
        return default
    if type(value) is int:
        return value
    return as_int(value, at(path, key))


def opt_list(obj: JSONObject, key: str, path: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    return value if isinstance(value, list) else as_list(value, at(path, key))


def opt_object(obj: JSONObject, key: str, path: str) -> JSONObject:
    value = obj.get(key)
    if value is None:
        return {}
    return value if isinstance(value, dict) else as_object(value, at(path, key))


def loose_str(obj: JSONObject, key: str) -> str | None:
    """A string or number from free-form metadata; anything else is ignored, not an error."""
    value = obj.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int | float):
        return str(value)
    return None


def loose_object(obj: JSONObject, key: str) -> JSONObject:
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def duration_ms(value: float) -> int:
    """Milliseconds as stored: whole and never negative (Playwright uses -1 for "did not run")."""
    return max(0, round(value))


def parse_timestamp(value: object, path: str) -> datetime:
    """An ISO 8601 string or epoch milliseconds, as an aware UTC datetime.

    Naive ISO strings are taken as UTC: the reporters that write them (JUnit tools) run in
    containers whose local zone is UTC far more often than not, and there is nothing better.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return _from_epoch_ms(int(text), path)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise fail(path, "expected an ISO 8601 timestamp or epoch milliseconds") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_epoch_ms(as_number(value, path), path)
    raise fail(path, f"expected an ISO 8601 timestamp or epoch milliseconds, got {describe(value)}")


def _from_epoch_ms(value: float, path: str) -> datetime:
    if not _MIN_EPOCH_MS <= value <= _MAX_EPOCH_MS:
        raise fail(path, "epoch milliseconds out of range")
    return datetime.fromtimestamp(value / 1000, UTC)


def opt_timestamp(obj: JSONObject, key: str, path: str) -> datetime | None:
    value = obj.get(key)
    return None if value is None else parse_timestamp(value, at(path, key))


def attempt_status(value: object, path: str) -> AttemptStatus:
    """Playwright's attempt status, lower-cased (``timedOut`` -> ``timedout``)."""
    status = as_str(value, path).lower()
    if status not in _ATTEMPT_STATUSES:
        raise fail(
            path,
            "expected one of passed, failed, timedOut, skipped, interrupted "
            "(or pytest's error, xfailed, xpassed)",
        )
    return AttemptStatus(status)


def error_text(text: str | None) -> str | None:
    """Error message or stack: ANSI stripped, bounded, ``None`` when blank."""
    cleaned = clean_text(text, limit=MAX_ERROR_CHARS)
    return cleaned if cleaned and cleaned.strip() else None


def step_record(title: str, duration: float, category: str | None, **more: Any) -> JSONObject:
    step: JSONObject = {
        "title": clean_text(title, limit=MAX_STEP_TITLE_CHARS) or "",
        "duration": duration_ms(duration),
    }
    if category:
        step["category"] = category
    step.update({k: v for k, v in more.items() if v is not None})
    return step


def bounded_object(obj: JSONObject, limit: int = MAX_METADATA_BYTES) -> JSONObject:
    """``obj`` with its top-level keys kept in order while the serialised size stays in ``limit``.

    Keys that do not fit are dropped whole (never half a value) and listed under ``_dropped``.
    """
    kept: JSONObject = {}
    dropped: list[str] = []
    size = 2
    for key, value in obj.items():
        try:
            item = len(orjson.dumps({key: value})) - 1
        except (TypeError, orjson.JSONEncodeError):
            dropped.append(str(key))
            continue
        if size + item > limit:
            dropped.append(str(key))
            continue
        kept[key] = value
        size += item
    if dropped:
        kept["_dropped"] = dropped[:100]
    return kept


def bounded_list(values: list[Any], *, max_items: int, max_bytes: int) -> list[Any]:
    """The first items of ``values`` that fit both bounds (free-form arrays such as requests)."""
    kept: list[Any] = []
    size = 2
    for value in values[:max_items]:
        try:
            item = len(orjson.dumps(value)) + 1
        except (TypeError, orjson.JSONEncodeError):
            continue
        if size + item > max_bytes:
            break
        kept.append(value)
        size += item
    return kept


def plain(text: str) -> str:
    """A name that is part of a test's identity (title, file, project): no ANSI codes and no
    NUL bytes, which PostgreSQL refuses in text columns."""
    return clean_text(text) or ""


# Playwright's rule for tags written in titles (``TestCase.tags``): "@" and what follows up to
# whitespace, in the describe titles and the test's own.
_TITLE_TAG = re.compile(r"@\S+")


def title_tags(title_path: list[str]) -> list[str]:
    """The tags written in a test's describe titles and title (``login @smoke``), in order."""
    return list(dict.fromkeys(_TITLE_TAG.findall(" ".join(title_path))))


def read_base64(value: object, path: str) -> bytes:
    try:
        return base64.b64decode(as_str(value, path), validate=True)
    except binascii.Error:
        raise fail(path, "invalid base64") from None


def normalise_file(path: str) -> str:
    """A test file path as the key uses it: forward slashes, no leading ``./``."""
    path = plain(path).replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path
