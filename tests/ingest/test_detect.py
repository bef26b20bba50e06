"""detect_format on the first bytes of the real reports in tests/data and of odd inputs."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from playdeck.ingest.parsers.detect import ReportFormat, detect_format
from playdeck.ingest.records import ReportFormatError

DATA = Path(__file__).parent.parent / "data"


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
    name: str, expected: ReportFormat, head_size: int
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
