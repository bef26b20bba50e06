"""What a report format is: a name, a ``sniff`` that recognises its first bytes, a ``parse``.

Each format module (``playwright_json``, ``junit``, ``phenx``) declares one ``ReportFormat``;
``registry`` lists them and is the only place that decides which one a document is.
"""

from __future__ import annotations

import mmap
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson

from playdeck.ingest.parsers.typed_json import top_level_keys
from playdeck.ingest.records import MalformedJSON, RunRecord

# Things that may come before an XML document's root element.
_XML_PROLOG = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.DOTALL)
_XML_ROOT = re.compile(r"\s*<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
# How far into a document its first line is looked for when telling JSON lines from JSON.
_MAX_FIRST_LINE = 64 * 1024
_FIRST_JSON_KEY = re.compile(r'\s*\{\s*"((?:[^"\\]|\\.)*)"')


class Syntax(StrEnum):
    """How a document is written, and so how ``parse`` receives it."""

    # ``parse`` gets the document's bytes, found well-formed by the sniffing (``read_whole``,
    # ``typed_json.top_level_keys``), or an already decoded value (``decoded`` reads both).
    JSON = "json"
    XML = "xml"  # ``parse`` gets the bytes (the parser answers malformed XML)
    # One JSON object per line (Playwright's blob report): ``parse`` gets the bytes; the head's
    # keys are those of the first line.
    JSON_LINES = "json-lines"


class ZipRole(StrEnum):
    """What a format's documents are inside an uploaded zip."""

    # The zip's one report: attachment paths are relative to it; the shallowest one is read.
    ALONE = "alone"
    # Shards: every such document in the zip is read, and they make one run.
    SHARD = "shard"
    # Not looked for in a zip.
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class Head:
    """What a sniffer sees of a document: its start, decoded as far as it goes.

    ``json_keys`` are the top-level keys when the head holds the whole JSON object;
    ``first_json_key`` is the first key when the head stops inside it (``JSON.stringify`` writes
    keys in insertion order, so producers' first keys are telling). ``xml_root`` is the root
    element's local name, ``None`` when the head ends before it.
    """

    syntax: Syntax | None = None
    json_keys: frozenset[str] | None = None
    first_json_key: str | None = None
    xml_root: str | None = None
    xml_declared: bool = False  # starts with ``<?xml``

    def json_keys_seen(self) -> frozenset[str]:
        """The keys known from the head: all of them, or the first one."""
        if self.json_keys is not None:
            return self.json_keys
        return frozenset({self.first_json_key} if self.first_json_key else ())

    @classmethod
    def of_value(cls, value: object) -> Head:
        """The head of a JSON document already decoded as a whole."""
        keys = frozenset(value) if isinstance(value, dict) else frozenset()
        return cls(syntax=Syntax.JSON, json_keys=keys)

    @classmethod
    def of_bytes(cls, head: bytes) -> Head:
        """The head of a document whose first bytes are ``head``."""
        text = _decode(head).lstrip()
        if text.startswith("<"):
            position = 0
            while prolog := _XML_PROLOG.match(text, position):
                position = prolog.end()
            root = _XML_ROOT.match(text, position)
            return cls(
                syntax=Syntax.XML,
                xml_root=root[2] if root else None,
                xml_declared=text.startswith("<?xml"),
            )
        if text.startswith("{"):
            lines = _json_lines_head(head)
            if lines is not None:
                return lines
            try:
                value = orjson.loads(head)
            except orjson.JSONDecodeError:
                first = _FIRST_JSON_KEY.match(text)
                return cls(syntax=Syntax.JSON, first_json_key=first[1] if first else None)
            return cls.of_value(value)
        return cls()


def _json_lines_head(data: bytes) -> Head | None:
    """The head of JSON lines: a first line that is a whole JSON object, and another line that
    starts one. A pretty-printed document's first line is a lone ``{``, never a whole object."""
    first, newline, rest = data.lstrip().partition(b"\n")
    if not newline or not rest.lstrip().startswith(b"{"):
        return None
    try:
        value = orjson.loads(first)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    return Head(syntax=Syntax.JSON_LINES, json_keys=frozenset(value))


def read_whole(data: bytes) -> tuple[Head, Any]:
    """A whole document's head and content: ``None`` for malformed JSON, else the bytes (JSON
    lines included). The head of JSON has its top-level keys, read without building the
    values."""
    if _decode(data[:64]).lstrip().startswith("{"):
        lines = _json_lines_head(data[: data.find(b"\n", 0, _MAX_FIRST_LINE) + 2])
        if lines is not None:
            return lines, data
        try:
            keys = top_level_keys(data)
        except MalformedJSON:
            return Head(syntax=Syntax.JSON), None
        return Head(syntax=Syntax.JSON, json_keys=keys or frozenset()), data
    return Head.of_bytes(data), data


def decoded(document: Any) -> Any:
    """The decoded value of a JSON document given as bytes (or already decoded)."""
    if not isinstance(document, bytes | mmap.mmap):
        return document
    try:
        return orjson.loads(document if isinstance(document, bytes) else memoryview(document))
    except orjson.JSONDecodeError as exc:
        raise MalformedJSON(str(exc)) from None


def _decode(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", "ignore")
    return head.decode("utf-8-sig", "ignore")


@dataclass(frozen=True, slots=True)
class ReportFormat:
    """One format the ingest reads.

    ``label`` names it in error messages, with the keys or element that tell it apart.
    ``parse`` gets the JSON document or the XML bytes (see ``Syntax``) and the time the
    report was received, for formats that may not say when their run started.
    """

    name: str
    label: str
    syntax: Syntax
    sniff: Callable[[Head], bool]
    parse: Callable[[Any, datetime], RunRecord]
    in_zip: ZipRole = ZipRole.NEVER
    # File name endings that claim the format when the head alone cannot tell (an XML head cut
    # inside its prolog).
    extensions: tuple[str, ...] = ()
