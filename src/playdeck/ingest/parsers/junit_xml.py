"""Reading a JUnit XML document's elements, whoever wrote it: the tree (entities refused),
tag names without namespaces, ``<properties>``, seconds, failure texts and captured output."""

from __future__ import annotations

import re
from collections.abc import Iterable
from xml.etree.ElementTree import Element, ParseError

import defusedxml  # type: ignore[import-untyped]
import defusedxml.ElementTree  # type: ignore[import-untyped]

from playdeck.ingest.parsers.reading import JSONObject
from playdeck.ingest.records import ReportFormatError
from playdeck.kit.text import clean_text
from playdeck.models.attempt import MAX_OUTPUT_CHARS

_PYTEST_SECTION = re.compile(r"^(-+ Captured (?:Log|Out|Err) -+)$", re.MULTILINE)


MAX_XML_DEPTH = 64


def parse_xml(data: bytes) -> Element:
    try:
        root: Element = defusedxml.ElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden:
        raise ReportFormatError(
            "XML entities are not allowed: the document has a document type declaration"
        ) from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden):
        raise ReportFormatError("XML entities are not allowed") from None
    except ParseError as error:
        line, column = error.position
        raise ReportFormatError(
            f"malformed XML at line {line}, column {column}: {str(error).split(':')[0]}"
        ) from None
    _check_depth(root)
    return root


def _check_depth(root: Element) -> None:
    """Refuse elements nested deeper than ``MAX_XML_DEPTH`` (JUnit needs four or five levels;
    a 100,000-deep document only costs memory and recursion)."""
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_XML_DEPTH:
            raise ReportFormatError(f"XML nested deeper than {MAX_XML_DEPTH} elements")
        stack.extend((child, depth + 1) for child in element)


def local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def read_properties(groups: Iterable[Element]) -> list[JSONObject]:
    annotations: list[JSONObject] = []
    for group in groups:
        for prop in group:
            if local(prop.tag) != "property" or not prop.get("name"):
                continue
            value = prop.get("value")
            if value is None:
                value = prop.text
            annotations.append(
                {"type": prop.get("name"), "description": clean_text(value, limit=2000) or None}
            )
    return annotations


def parse_seconds(value: str | None, path: str) -> float:
    if value is None or not value.strip():
        return 0.0
    try:
        # Some surefire versions format thousands with a comma ("1,234.5").
        return max(0.0, float(value.replace(",", "")))
    except ValueError:
        raise ReportFormatError(f"{path}: expected a number of seconds") from None


def message_and_stack(element: Element) -> tuple[str | None, str | None]:
    text = (element.text or "").strip("\n") or None
    message = element.get("message")
    if not message and text:
        message = text.strip().split("\n", 1)[0]
    return message, text


def output(texts: list[str | None]) -> str | None:
    parts = [_drop_empty_sections(t) for t in texts if t]
    text = "\n".join(p for p in parts if p)
    return clean_text(text, limit=MAX_OUTPUT_CHARS) if text else None


def _drop_empty_sections(text: str) -> str:
    """Text without pytest's ``--- Captured Out ---`` rules around empty captures.

    pytest's ``junit_logging`` writes a rule per capture kind even when nothing was captured.
    """
    pieces = _PYTEST_SECTION.split(text)  # [before, rule, body, rule, body, ...]
    kept = [pieces[0].strip("\n")] if pieces[0].strip() else []
    for rule, body in zip(pieces[1::2], pieces[2::2], strict=True):
        if body.strip():
            kept.append(f"{rule}\n{body.strip(chr(10))}")
    return "\n".join(kept)
