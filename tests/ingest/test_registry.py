"""The format registry on the first bytes of the real reports in tests/data and of odd inputs:
one detection for every path, and a mochawesome report (what Cypress users have) is no
Playwright report."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from playdeck.ingest.parsers import blob, junit, phenx, playwright_json, registry
from playdeck.ingest.parsers.format import Head, ReportFormat, Syntax, ZipRole, read_whole
from playdeck.ingest.records import ReportFormatError

DATA = Path(__file__).parent.parent / "data"
MOCHAWESOME = DATA / "mochawesome" / "mochawesome.json"
PLAYWRIGHT_JSON_PATH = DATA / "playwright" / "report.json"


def detect_format(filename: str | None, head: bytes) -> str:
    """The name of what ``registry.detect`` found: a format's name or a container's."""
    found = registry.detect(filename, head)
    return found.name if isinstance(found, ReportFormat) else found.value


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("playwright/report.json", "playwright-json"),
        ("playwright/junit.xml", "junit"),
        ("playwright/report.zip", "zip"),
        ("phenx/submit.json", "phenx-json"),
        ("junit/pytest.xml", "junit"),
        ("junit/pytest-reruns.xml", "junit"),
    ],
)
@pytest.mark.parametrize("head_size", [64, 512, 1_000_000])
def test_real_reports_are_recognised_from_their_head(
    name: str, expected: str, head_size: int
) -> None:
    head = (DATA / name).read_bytes()[:head_size]
    assert detect_format(None, head) == expected
    assert detect_format("upload.bin", head) == expected  # content wins over the name


def test_gzip_is_a_report_archive() -> None:
    assert detect_format("html-report.gz", gzip.compress(b"\x05\x00\x00\x00index")) == "gz-archive"


def test_junit_without_declaration_and_with_bom_and_comments() -> None:
    assert detect_format(None, b"<testsuite name='x'>") == "junit"
    assert detect_format(None, b"\xef\xbb\xbf\n  <!-- made by ci -->\n<testsuites>") == "junit"
    assert detect_format(None, "<testsuites/>".encode("utf-16")) == "junit"
    assert detect_format(None, b"<ns:testsuites xmlns:ns='urn:x'>") == "junit"


def test_xml_head_cut_in_the_prolog_falls_back_to_the_name() -> None:
    head = b'<?xml version="1.0" encoding="utf-8"?><!-- a long comment that goes on'
    assert detect_format("results.xml", head) == "junit"
    assert detect_format(None, head) == "junit"


def test_json_head_cut_before_its_first_key_is_refused() -> None:
    with pytest.raises(ReportFormatError, match="unrecognised JSON report"):
        detect_format("report.json", b"{\n   ")


def test_json_objects_are_told_apart_by_their_keys() -> None:
    assert detect_format(None, b'{"suites": [], "errors": []}') == "playwright-json"
    assert detect_format(None, b'{"config": {"workers": 4, "projects": [{"na') == "playwright-json"
    assert detect_format(None, b'{"projectName": "shop", "status": "passed"}') == "phenx-json"
    assert detect_format(None, b'{"testCases": [], "status": "passed"}') == "phenx-json"


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"hello",
        b"[1, 2, 3]",
        b'{"name": "package.json"}',
        b"<html><body>not junit</body></html>",
        b"\x89PNG\r\n\x1a\n",
    ],
)
def test_unknown_content_is_refused_whatever_the_name(head: bytes) -> None:
    with pytest.raises(ReportFormatError, match="unrecognised"):
        detect_format("report.xml", head)


@pytest.mark.parametrize("head_size", [64, 512, 1_000_000])
def test_mochawesome_report_is_not_taken_for_playwright(head_size: int) -> None:
    # Its first key is "stats", which Playwright's report has too (last, though).
    head = MOCHAWESOME.read_bytes()[:head_size]
    assert head.lstrip().startswith(b'{\n  "stats"')
    with pytest.raises(ReportFormatError, match="unrecognised JSON report: expected") as raised:
        registry.detect("mochawesome.json", head)
    assert "Playwright's JSON report (config, suites)" in str(raised.value)


def test_every_format_is_registered_once_with_its_own_name() -> None:
    assert registry.FORMATS == (phenx.FORMAT, playwright_json.FORMAT, junit.FORMAT, blob.FORMAT)
    assert len(registry.BY_NAME) == len(registry.FORMATS)
    for report_format in registry.FORMATS:
        assert report_format.extensions, report_format.name


def test_unknown_content_error_names_every_registered_format() -> None:
    with pytest.raises(ReportFormatError) as raised:
        registry.detect(None, b"hello")
    for report_format in registry.FORMATS:
        assert report_format.label in str(raised.value)


def test_whole_documents_are_sniffed_once_decoded() -> None:
    value = orjson.loads(PLAYWRIGHT_JSON_PATH.read_bytes())
    assert registry.sniff_json(Head.of_value(value)) is playwright_json.FORMAT
    assert registry.sniff_json(Head.of_value(orjson.loads(MOCHAWESOME.read_bytes()))) is None
    head, content = read_whole((DATA / "junit" / "pytest.xml").read_bytes())
    assert (head.syntax, registry.sniff(head)) == (Syntax.XML, junit.FORMAT)
    assert isinstance(content, bytes)
    head, content = read_whole(b'{"suites": [')  # malformed: no format, no value
    assert (registry.sniff(head), content) == (None, None)


def test_zip_roles() -> None:
    assert playwright_json.FORMAT.in_zip is ZipRole.ALONE
    assert junit.FORMAT.in_zip is ZipRole.SHARD
    assert phenx.FORMAT.in_zip is ZipRole.NEVER
    assert registry.claims("out/report.json", ZipRole.ALONE)
    assert registry.claims("junit/A.XML", ZipRole.SHARD)
    assert not registry.claims("junit/A.xml", ZipRole.ALONE)
    assert not registry.claims("test-results/shot.png", ZipRole.SHARD)
