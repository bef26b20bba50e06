"""Report parsers: bytes or decoded JSON in, ``playdeck.ingest.records`` out.

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
from playdeck.ingest.parsers.detect import ReportFormat, detect_format
from playdeck.ingest.parsers.junit import parse_junit_xml
from playdeck.ingest.parsers.phenx import parse_phenx_submit, parse_phenx_upload
from playdeck.ingest.parsers.playwright_json import parse_playwright_json

__all__ = [
    "ReportFormat",
    "SafeZip",
    "detect_format",
    "parse_junit_xml",
    "parse_phenx_submit",
    "parse_phenx_upload",
    "parse_playwright_json",
    "read_report_archive",
    "safe_relative_path",
    "zip_bytes_is_zip",
]
