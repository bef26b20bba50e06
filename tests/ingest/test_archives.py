"""archives: the PhenX reporter's .gz report archives, SafeZip and the shared path rule, with the
real tests/data/playwright/report.zip and hand-made hostile archives."""

from __future__ import annotations

import gzip
import io
import stat
import struct
import zipfile
from pathlib import Path
from typing import BinaryIO

import orjson
import pytest

from playdeck.ingest.parsers.archives import (
    SafeZip,
    read_report_archive,
    safe_relative_path,
    zip_bytes_is_zip,
)
from playdeck.ingest.parsers.playwright_json import parse_playwright_json
from playdeck.ingest.records import ReportFormatError

PLAYWRIGHT = Path(__file__).parent.parent / "data" / "playwright"
MB = 1024 * 1024


def record(path: str | bytes, body: bytes, *, declared: int | None = None) -> bytes:
    raw = path.encode() if isinstance(path, str) else path
    size = len(body) if declared is None else declared
    return struct.pack("<I", len(raw)) + raw + struct.pack("<I", size) + body


def gz(*records: bytes) -> io.BytesIO:
    return io.BytesIO(gzip.compress(b"".join(records)))


def read_gz(stream: io.BytesIO, *, max_total_bytes: int = MB, max_entries: int = 100) -> list[str]:
    files = read_report_archive(stream, max_total_bytes=max_total_bytes, max_entries=max_entries)
    return [f.path for f in files]


# --------------------------------------------------------------- safe_relative_path


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("index.html", "index.html"),
        ("data/abc.zip", "data/abc.zip"),
        ("data\\trace\\abc.zip", "data/trace/abc.zip"),  # made on Windows
        ("..foo/bar..", "..foo/bar.."),
    ],
)
def test_safe_relative_paths_are_normalised(given: str, expected: str) -> None:
    assert safe_relative_path(given) == expected


@pytest.mark.parametrize(
    "hostile",
    [
        "",
        "../x",
        "a/../../x",
        "..\\x",
        "a\\..\\..\\x",
        "/etc/passwd",
        "\\\\server\\share\\x",
        "C:\\Windows\\x",
        "c:x",
        "a//b",
        "a/",
        "./a",
        "a/./b",
        "a\x00b",
        "a\nb",
    ],
)
def test_hostile_paths_are_refused(hostile: str) -> None:
    with pytest.raises(ReportFormatError):
        safe_relative_path(hostile)


# --------------------------------------------------------------- .gz report archive


def test_report_archive_of_real_files_round_trips() -> None:
    files = sorted(p for p in (PLAYWRIGHT / "test-results").rglob("*") if p.is_file())
    stream = gz(*(record(str(p.relative_to(PLAYWRIGHT)), p.read_bytes()) for p in files))
    records = read_report_archive(stream, max_total_bytes=10 * MB, max_entries=100)
    assert len(records) == len(files) == 22
    by_path = {r.path: r.body for r in records}
    trace = "test-results/outcomes-failing-expectation-chromium/trace.zip"
    assert by_path[trace] == (PLAYWRIGHT / trace).read_bytes()


def test_windows_separators_are_normalised() -> None:
    assert read_gz(gz(record("data\\abc.zip", b"z"), record("index.html", b"<html>"))) == [
        "data/abc.zip",
        "index.html",
    ]


@pytest.mark.parametrize(
    "path", ["../evil.sh", "..\\evil.sh", "/abs", "C:\\x", "a//b", "ok/\x00.txt"]
)
def test_hostile_archive_path_is_refused(path: str) -> None:
    with pytest.raises(ReportFormatError, match=r"^entry 1: "):
        read_gz(gz(record("index.html", b"ok"), record(path, b"x")))


def test_oversize_length_is_refused_before_reading() -> None:
    # Declares 2 GiB and holds 3 bytes: refused on the declaration, not after a read.
    stream = gz(record("big.bin", b"abc", declared=2**31))
    with pytest.raises(ReportFormatError, match=r"^big\.bin: 2147483648 bytes would exceed"):
        read_gz(stream)


def test_total_budget_counts_every_file() -> None:
    stream = gz(record("a", b"x" * 600), record("b", b"y" * 600))
    with pytest.raises(ReportFormatError, match=r"^b: 600 bytes would exceed"):
        read_gz(stream, max_total_bytes=1000)


def test_path_length_must_be_1_to_10000() -> None:
    with pytest.raises(ReportFormatError, match=r"path length 0 is not in 1\.\.10000"):
        read_gz(gz(struct.pack("<I", 0)))
    with pytest.raises(ReportFormatError, match=r"path length 10001 is not in"):
        read_gz(gz(record("a" * 10001, b"")))


def test_truncated_archive_is_refused() -> None:
    whole = record("index.html", b"<html>hello</html>")
    with pytest.raises(ReportFormatError, match=r"^index\.html: content: archive is truncated"):
        read_gz(gz(whole[:-4]))
    with pytest.raises(ReportFormatError, match="truncated"):
        read_gz(gz(whole[:3]))
    cut_gzip = gzip.compress(whole)[:-12]
    with pytest.raises(ReportFormatError):
        read_gz(io.BytesIO(cut_gzip))


def test_too_many_entries() -> None:
    stream = gz(*(record(f"f{i}", b"") for i in range(4)))
    with pytest.raises(ReportFormatError, match=r"^f3: more than 3 files"):
        read_gz(stream, max_entries=3)


def test_duplicates_and_file_directory_clashes_are_refused() -> None:
    with pytest.raises(ReportFormatError, match="twice"):
        read_gz(gz(record("a/b", b"1"), record("a\\b", b"2")))
    with pytest.raises(ReportFormatError, match="both a file and a directory"):
        read_gz(gz(record("a", b"1"), record("a/b", b"2")))


def test_non_utf8_path_and_non_gzip_input() -> None:
    with pytest.raises(ReportFormatError, match="not UTF-8"):
        read_gz(gz(record(b"\xff\xfe", b"")))
    with pytest.raises(ReportFormatError, match="not a valid gzip stream"):
        read_gz(io.BytesIO(b"PK\x03\x04 definitely a zip"))


def test_empty_archive_has_no_files() -> None:
    assert read_gz(gz()) == []


# --------------------------------------------------------------- SafeZip


def make_zip(*entries: tuple[str | zipfile.ZipInfo, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in entries:
            archive.writestr(name, body)
    buffer.seek(0)
    return buffer


def open_zip(file: BinaryIO, **limits: int) -> SafeZip:
    return SafeZip(
        file,
        max_total_bytes=limits.get("max_total_bytes", MB),
        max_entries=limits.get("max_entries", 100),
        **({"max_ratio": limits["max_ratio"]} if "max_ratio" in limits else {}),
    )


def test_real_playwright_zip_and_its_attachments_line_up() -> None:
    with (
        (PLAYWRIGHT / "report.zip").open("rb") as file,
        open_zip(file, max_total_bytes=10 * MB) as z,
    ):
        names = z.names()
        assert len(names) == 23  # report.json and the 22 files it references
        assert zip_bytes_is_zip((PLAYWRIGHT / "report.zip").read_bytes()[:4])
        run = parse_playwright_json(orjson.loads(z.read("report.json", MB)))
        paths = [a.path for t in run.tests for at in t.attempts for a in at.attachments if a.path]
        assert len(paths) == 22
        assert set(paths) == set(names) - {
            "report.json"
        }  # the zip's report.json has zip-relative paths
        with z.open("test-results/outcomes-failing-expectation-chromium/trace.zip") as trace:
            assert zip_bytes_is_zip(trace.read(4))


def test_zip_traversal_names_are_refused() -> None:
    for name in ("../x", "/abs/x", "a/../../x", "..\\x", "C:/x"):
        with pytest.raises(ReportFormatError, match=r"path|segment"):
            open_zip(make_zip(("ok.txt", b"1"), (name, b"2")))


def test_zip_symlink_is_refused() -> None:
    link = zipfile.ZipInfo("report/link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with pytest.raises(ReportFormatError, match=r"^'report/link': symbolic links"):
        open_zip(make_zip((link, b"/etc/passwd")))


def test_zip_with_too_many_entries_is_refused() -> None:
    with pytest.raises(ReportFormatError, match="6 entries, over 5"):
        open_zip(make_zip(*((f"f{i}", b"") for i in range(6))), max_entries=5)


def test_zip_over_the_declared_size_budget_is_refused() -> None:
    file = make_zip(("a.txt", b"a" * 600), ("b.txt", b"b" * 600))
    with pytest.raises(ReportFormatError, match=r"^'b\.txt': unpacked size would exceed"):
        open_zip(file, max_total_bytes=1000)


def test_zip_with_implausible_ratio_is_refused() -> None:
    with pytest.raises(ReportFormatError, match=r"^'zeros': compression ratio over 50:1"):
        open_zip(make_zip(("zeros", bytes(100_000))), max_ratio=50)


def test_zip_encrypted_entry_is_refused() -> None:
    raw = make_zip(("secret.txt", b"not really encrypted")).getvalue()
    # zipfile cannot write encrypted entries: set the flag in the central directory record.
    header = raw.index(b"PK\x01\x02")
    flags = int.from_bytes(raw[header + 8 : header + 10], "little") | 0x1
    forged = raw[: header + 8] + flags.to_bytes(2, "little") + raw[header + 10 :]
    with pytest.raises(ReportFormatError, match=r"^'secret\.txt': encrypted"):
        open_zip(io.BytesIO(forged))


def test_zip_read_is_bounded_and_names_are_normalised() -> None:
    with open_zip(make_zip(("dir\\note.txt", b"hello"), ("dir/", b""))) as z:
        assert z.names() == ["dir/note.txt"]
        assert z.read("dir/note.txt", 5) == b"hello"
        with pytest.raises(ReportFormatError, match=r"5 bytes, over 4"):
            z.read("dir/note.txt", 4)
        with pytest.raises(ReportFormatError, match="no such file"):
            z.read("dir/other.txt", 4)


def test_not_a_zip() -> None:
    assert not zip_bytes_is_zip(b"\x1f\x8b\x08\x00")
    with pytest.raises(ReportFormatError, match="not a valid zip archive"):
        open_zip(io.BytesIO(b"PK\x03\x04 but nothing else"))
