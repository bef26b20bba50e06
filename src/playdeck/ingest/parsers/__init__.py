"""Report parsers: bytes or decoded JSON in, ``playdeck.ingest.records`` out.

Each format is a ``format.ReportFormat`` (``sniff`` and ``parse``) listed in ``registry``.

Pure: no database, no file system, no clock. Malformed input raises ``ReportFormatError``
whose message names where it failed (a JSON field path, an XML line and column, an archive
entry).
"""

from playdeck.ingest.parsers.archives import (
    SafeZip,
    read_report_archive,
    safe_relative_path,
    zip_bytes_is_zip,
)
from playdeck.ingest.parsers.format import Head, ReportFormat, Syntax, ZipRole
from playdeck.ingest.parsers.junit import parse_junit_xml
from playdeck.ingest.parsers.phenx import parse_phenx_submit, parse_phenx_upload
from playdeck.ingest.parsers.playwright_json import parse_playwright_json
from playdeck.ingest.parsers.registry import FORMATS, Container, detect

__all__ = [
    "FORMATS",
    "Container",
    "Head",
    "ReportFormat",
    "SafeZip",
    "Syntax",
    "ZipRole",
    "detect",
    "parse_junit_xml",
    "parse_phenx_submit",
    "parse_phenx_upload",
    "parse_playwright_json",
    "read_report_archive",
    "safe_relative_path",
    "zip_bytes_is_zip",
]
