"""Which parser an uploaded file needs, from its first bytes (the file name only breaks ties)."""

from __future__ import annotations

import re
from typing import Literal

import orjson

from playdeck.ingest.parsers.archives import zip_bytes_is_zip
from playdeck.ingest.records import ReportFormatError

ReportFormat = Literal["playwright-json", "junit", "zip", "phenx-json", "gz-archive"]

_GZIP_MAGIC = b"\x1f\x8b"
# Things that may come before an XML document's root element.
_XML_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.DOTALL)
_XML_ROOT = re.compile(r"\s*<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_FIRST_JSON_KEY = re.compile(r'\s*\{\s*"((?:[^"\\]|\\.)*)"')
_PLAYWRIGHT_KEYS = frozenset({"config", "suites", "errors", "stats"})
_PHENX_KEYS = frozenset({"projectName", "testCases", "testRun", "totalTests", "startTime"})
_BY_EXTENSION: dict[str, ReportFormat] = {
    ".xml": "junit",
    ".zip": "zip",
    ".gz": "gz-archive",
}


def detect_format(filename: str | None, head: bytes) -> ReportFormat:
    """The format of a report whose first bytes are ``head`` (a few KiB are plenty).

    Content decides; the name only settles what content leaves open (a JSON head cut before
    its first key, an XML head cut before its root element).
    """
    if zip_bytes_is_zip(head):
        return "zip"
    if head.startswith(_GZIP_MAGIC):
        return "gz-archive"
    text = _decode(head)
    stripped = text.lstrip()
    hint = _by_name(filename)
    if stripped.startswith("<"):
        return _detect_xml(stripped, hint)
    if stripped.startswith("{"):
        return _detect_json(head, stripped)
    raise ReportFormatError(
        "unrecognised report format: expected Playwright JSON, JUnit XML, a seed-004 JSON "
        "body, a zip or a .gz report archive"
    )


def _decode(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", "ignore")
    return head.decode("utf-8-sig", "ignore")


def _by_name(filename: str | None) -> ReportFormat | None:
    name = (filename or "").lower()
    for extension, report_format in _BY_EXTENSION.items():
        if name.endswith(extension):
            return report_format
    return None


def _detect_xml(text: str, hint: ReportFormat | None) -> ReportFormat:
    position = 0
    while prolog := _XML_PROLOG.match(text, position):
        position = prolog.end()
    root = _XML_ROOT.match(text, position)
    if root is None:
        # The head ends inside the prolog: only an XML declaration and the name to go on.
        if text.startswith("<?xml") and hint in (None, "junit"):
            return "junit"
        raise ReportFormatError("unrecognised XML document: no root element in the first bytes")
    if root[2] in ("testsuites", "testsuite"):
        return "junit"
    raise ReportFormatError(f"unrecognised XML document: root element <{root[2]}> is not JUnit")


def _detect_json(head: bytes, text: str) -> ReportFormat:
    # The file name does not help here: both kinds are called report.json or results.json.
    keys = _top_level_keys(head)
    complete = keys is not None
    if keys is None:
        # A head cut mid-document: JSON.stringify writes keys in insertion order, and both
        # producers put a telling key first (Playwright "config", seed-004 "projectName").
        first = _FIRST_JSON_KEY.match(text)
        keys = {first[1]} if first else set()
    if keys & _PHENX_KEYS:
        return "phenx-json"
    if "suites" in keys or (not complete and keys & _PLAYWRIGHT_KEYS):
        return "playwright-json"
    raise ReportFormatError(
        "unrecognised JSON report: expected Playwright's JSON reporter output "
        "(config, suites) or a seed-004 body (projectName, testCases)"
    )


def _top_level_keys(head: bytes) -> set[str] | None:
    """Keys of the JSON object in ``head`` when ``head`` is the whole document, else ``None``."""
    try:
        value = orjson.loads(head)
    except orjson.JSONDecodeError:
        return None
    return set(value) if isinstance(value, dict) else set()
