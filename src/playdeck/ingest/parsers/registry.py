"""The report formats Playdeck reads, and the one place that decides which one a document is.

A new format is one module that declares a ``ReportFormat`` (``sniff`` and ``parse``), added to
``FORMATS`` below, plus its tests. Order matters only where two sniffs could both match a head:
the first wins.
"""

from __future__ import annotations

from enum import StrEnum

from playdeck.ingest.parsers import blob, junit, phenx, playwright_json
from playdeck.ingest.parsers.archives import zip_bytes_is_zip
from playdeck.ingest.parsers.format import Head, ReportFormat, Syntax, ZipRole
from playdeck.ingest.records import ReportFormatError

# The PhenX reporter's keys are checked before Playwright's: its body may hold a "stats" key.
FORMATS: tuple[ReportFormat, ...] = (
    phenx.FORMAT,
    playwright_json.FORMAT,
    junit.FORMAT,
    blob.FORMAT,
)
BY_NAME = {f.name: f for f in FORMATS}
_BY_SYNTAX = {s: tuple(f for f in FORMATS if f.syntax is s) for s in Syntax}
_JSON = _BY_SYNTAX[Syntax.JSON]
_XML = _BY_SYNTAX[Syntax.XML]

_GZIP_MAGIC = b"\x1f\x8b"


class Container(StrEnum):
    """Uploads that hold reports or report files rather than being one."""

    ZIP = "zip"  # a report with its attachments
    GZ_ARCHIVE = "gz-archive"  # a report's files (an HTML report), not a run


_CONTAINER_EXTENSIONS = (".zip", ".gz")


def _labels(formats: tuple[ReportFormat, ...]) -> str:
    return ", ".join(f.label for f in formats)


def detect(filename: str | None, head: bytes) -> ReportFormat | Container:
    """What an upload whose first bytes are ``head`` is (a few KiB are plenty).

    Content decides; the name only settles what content leaves open (an XML head cut before
    its root element).
    """
    if zip_bytes_is_zip(head):
        return Container.ZIP
    if head.startswith(_GZIP_MAGIC):
        return Container.GZ_ARCHIVE
    seen = Head.of_bytes(head)
    if seen.syntax is Syntax.XML:
        return _detect_xml(seen, (filename or "").lower())
    if seen.syntax is Syntax.JSON:
        found = sniff_json(seen)
        if found is None:
            raise ReportFormatError(f"unrecognised JSON report: expected {_labels(_JSON)}")
        return found
    if seen.syntax is Syntax.JSON_LINES:
        found = sniff(seen)
        if found is None:
            lines = _BY_SYNTAX[Syntax.JSON_LINES]
            raise ReportFormatError(f"unrecognised JSON lines document: expected {_labels(lines)}")
        return found
    raise ReportFormatError(
        f"unrecognised report format: expected {_labels(FORMATS)}, a zip or a .gz report archive"
    )


def sniff_json(head: Head) -> ReportFormat | None:
    """The JSON format whose sniff matches ``head``, if any."""
    return _sniffed(head, _JSON)


def sniff(head: Head) -> ReportFormat | None:
    """The format whose sniff matches ``head``, if any."""
    return _sniffed(head, _BY_SYNTAX[head.syntax] if head.syntax else ())


def claims(name: str, role: ZipRole) -> bool:
    """Whether zip entry ``name`` may be a report that plays ``role``, going by its name (only
    those are read and sniffed)."""
    lowered = name.lower()
    return any(lowered.endswith(e) for f in FORMATS if f.in_zip is role for e in f.extensions)


def _sniffed(head: Head, formats: tuple[ReportFormat, ...]) -> ReportFormat | None:
    return next((f for f in formats if f.sniff(head)), None)


def _detect_xml(head: Head, filename: str) -> ReportFormat:
    if head.xml_root is None:
        # The head ends inside the prolog: an XML declaration and the name are all there is.
        container = any(filename.endswith(e) for e in _CONTAINER_EXTENSIONS)
        claiming = [f for f in _XML if any(filename.endswith(e) for e in f.extensions)]
        if head.xml_declared and not container and (claiming or len(_XML) == 1):
            return (claiming or list(_XML))[0]
        raise ReportFormatError("unrecognised XML document: no root element in the first bytes")
    found = _sniffed(head, _XML)
    if found is None:
        raise ReportFormatError(
            f"unrecognised XML document: root element <{head.xml_root}> is not "
            f"{' or '.join(f.label for f in _XML)}"
        )
    return found
