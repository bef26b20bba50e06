"""Typed JSON decoding (msgspec): a report's bytes straight into ``msgspec.Struct``s, its
validation errors worded as every parser words its own (``path: problem``).

A format decodes the fields it reads into typed structs and leaves free-form parts (metadata,
error objects, steps) as plain values read with ``reading``'s loose helpers. Required fields are
typed without ``None``, so that a ``null`` and an absent key are both "missing", as the
dict-reading parsers say.
"""

from __future__ import annotations

import mmap
import re
from typing import TypeVar

import msgspec

from playdeck.ingest.parsers.reading import fail
from playdeck.ingest.records import MalformedJSON, ReportFormatError

T = TypeVar("T")

# msgspec's messages: "<problem>" or "<problem> - at `$<path>`".
_AT = re.compile(r"^(?P<problem>.*?)(?: - at `\$(?P<path>.*)`)?$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<key>[^`]*)`$")
_EXPECTED = re.compile(r"^Expected `(?P<expected>[^`]*)`, got `(?P<got>[^`]*)`$")
_LAST_KEY = re.compile(r"^(?P<parent>.*?)\.?(?P<key>[^.\[\]]+)$")
_WORDS = {
    "object": "an object",
    "array": "an array",
    "str": "a string",
    "int": "a number",
    "float": "a number",
    "bool": "a boolean",
    "null": "null",
}
_TOP_LEVEL = msgspec.json.Decoder(dict[str, msgspec.Raw])
# msgspec recurses into nested values, up to Python's recursion limit.
_TOO_DEEP = "JSON nested too deeply"


def decode(
    decoder: msgspec.json.Decoder[T], data: bytes | mmap.mmap | msgspec.Raw, prefix: str = ""
) -> T:
    """``data`` decoded by ``decoder``; a wrong value is a ``ReportFormatError`` that names its
    field (under ``prefix``, the path of ``data`` in its document), malformed JSON a
    ``MalformedJSON``."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        raise invalid(exc, prefix) from None
    except msgspec.DecodeError as exc:
        raise MalformedJSON(str(exc)) from None
    except RecursionError:
        raise MalformedJSON(_TOO_DEEP) from None


def top_level_keys(data: bytes | mmap.mmap) -> frozenset[str] | None:
    """The keys of a JSON document's top-level object, ``None`` when it is another value;
    ``MalformedJSON`` when it is not JSON. The values are checked but not built."""
    try:
        return frozenset(_TOP_LEVEL.decode(data))
    except msgspec.ValidationError:
        return None
    except msgspec.DecodeError as exc:
        raise MalformedJSON(str(exc)) from None
    except RecursionError:
        raise MalformedJSON(_TOO_DEEP) from None


def invalid(exc: msgspec.ValidationError, prefix: str = "") -> ReportFormatError:
    """msgspec's validation message in the parsers' words: ``suites[0].specs[2]: missing
    'title'``, ``...results[0].duration: expected a number, got a string``."""
    found = _AT.match(str(exc))
    assert found is not None  # the pattern accepts any text
    problem, path = found["problem"], _joined(prefix, (found["path"] or "").lstrip("."))
    if missing := _MISSING.match(problem):
        return fail(path, f"missing '{missing['key']}'")
    expected = _EXPECTED.match(problem)
    if expected is None:
        return fail(path, problem[:1].lower() + problem[1:])
    if expected["got"] == "null" and (last := _LAST_KEY.match(path)) and not path.endswith("]"):
        # Only fields typed without None refuse a null: required ones, as absent ones are.
        return fail(last["parent"], f"missing '{last['key']}'")
    return fail(path, f"expected {_words(expected['expected'])}, got {_words(expected['got'])}")


def _joined(prefix: str, path: str) -> str:
    if not prefix or not path:
        return prefix or path
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def _words(types: str) -> str:
    kinds = [_WORDS.get(t, t) for t in types.split(" | ") if t != "null"] or ["null"]
    return " or ".join(dict.fromkeys(kinds))
