"""Uploaded archives, read as hostile input: the PhenX reporter's ``.gz`` report archives
and zip files.

Every path is checked by ``safe_relative_path`` before anything is read, and every size is
checked against the caller's budget before the bytes are read or unpacked.
"""

from __future__ import annotations

import gzip
import re
import stat
import struct
import zipfile
import zlib
from types import TracebackType
from typing import IO, BinaryIO, cast

from playdeck.ingest.records import ArchiveTooLarge, ReportFileRecord, ReportFormatError

MAX_PATH_BYTES = 10_000
# Real reports compress about 15:1 (JSON) and traces 6:1; deflate cannot do better than about
# 1032:1. Past the limit (PLAYDECK_MAX_COMPRESSION_RATIO) an archive is a bomb, not a report.
MAX_COMPRESSION_RATIO = 200
# Entries smaller than this are not held to the ratio: they cannot unpack to anything large.
RATIO_FREE_BYTES = 64 * 1024
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_DRIVE = re.compile(r"^[A-Za-z]:")
_U32 = struct.Struct("<I")
# End of central directory records (APPNOTE 4.3.16, 4.3.15, 4.3.14).
_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")


def safe_relative_path(path: str) -> str:
    """``path`` as a normalised relative POSIX path, or ``ReportFormatError``.

    Backslashes count as separators (Windows-made archives use them), so ``..\\x`` is caught
    like ``../x``. Refused: empty paths, NUL and other control characters, absolute paths,
    drive letters, and empty, ``.`` or ``..`` segments.
    """
    if not path:
        raise ReportFormatError("empty path")
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise ReportFormatError(f"{path!r}: control characters in path")
    posix = path.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        raise ReportFormatError(f"{path!r}: absolute path")
    segments = posix.split("/")
    for segment in segments:
        if segment in ("", ".", ".."):
            raise ReportFormatError(f"{path!r}: empty, '.' or '..' segment")
    return "/".join(segments)


def read_report_archive(
    stream: BinaryIO,
    *,
    max_total_bytes: int,
    max_entries: int,
    max_ratio: int = MAX_COMPRESSION_RATIO,
) -> list[ReportFileRecord]:
    """The files of a PhenX reporter's ``.gz`` report archive, read as a stream.

    Format: gzip of ``[u32 LE path length][UTF-8 path][u32 LE content length][content]``
    repeated. Each length is checked (path 1..10000 bytes, content within what is left of
    ``max_total_bytes``) before the bytes behind it are read, so a forged length costs nothing.
    """
    files: list[ReportFileRecord] = []
    seen: set[str] = set()
    remaining = max_total_bytes
    start = stream.tell()
    try:
        with gzip.GzipFile(fileobj=stream, mode="rb") as archive:
            while True:
                head = archive.read(_U32.size)
                if not head:
                    return files
                index = len(files)
                path_length = _u32(head, f"entry {index}: path length")
                if not 1 <= path_length <= MAX_PATH_BYTES:
                    raise ReportFormatError(
                        f"entry {index}: path length {path_length} is not in 1..{MAX_PATH_BYTES}"
                    )
                raw_path = _read_exactly(archive, path_length, f"entry {index}: path")
                try:
                    decoded = raw_path.decode("utf-8")
                except UnicodeDecodeError:
                    raise ReportFormatError(f"entry {index}: path is not UTF-8") from None
                path = _entry_path(decoded, f"entry {index}")
                if index >= max_entries:
                    raise ReportFormatError(f"{path}: more than {max_entries} files")
                if path in seen:
                    raise ReportFormatError(f"{path}: appears twice in the archive")
                length = _u32(archive.read(_U32.size), f"{path}: content length")
                if length > remaining:
                    raise ReportFormatError(
                        f"{path}: {length} bytes would exceed the archive budget of "
                        f"{max_total_bytes} bytes"
                    )
                body = _read_exactly(archive, length, f"{path}: content")
                remaining -= length
                unpacked = max_total_bytes - remaining
                # The stream is read ahead in chunks, so the ratio seen is never too high.
                packed = max(stream.tell() - start, 1)
                if unpacked > RATIO_FREE_BYTES and unpacked / packed > max_ratio:
                    raise ArchiveTooLarge(
                        f"{path}: compression ratio over {max_ratio}:1 (a bomb, not a report)"
                    )
                seen.add(path)
                files.append(ReportFileRecord(path=path, body=body))
                if not archive.peek(1):
                    _refuse_file_directory_clash([f.path for f in files])
                    return files
    except (gzip.BadGzipFile, zlib.error, EOFError) as error:
        raise ReportFormatError(f"not a valid gzip stream: {error}") from None


def _entry_path(path: str, where: str) -> str:
    try:
        return safe_relative_path(path)
    except ReportFormatError as error:
        raise ReportFormatError(f"{where}: {error}") from None


def _u32(raw: bytes, what: str) -> int:
    if len(raw) != _U32.size:
        raise ReportFormatError(f"{what}: archive is truncated")
    value: int = _U32.unpack(raw)[0]
    return value


def _read_exactly(stream: gzip.GzipFile, size: int, what: str) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise ReportFormatError(f"{what}: archive is truncated ({len(data)} of {size} bytes)")
    return data


def _refuse_file_directory_clash(paths: list[str]) -> None:
    """Refuse ``a`` next to ``a/b``: both cannot be written to one directory tree."""
    files = set(paths)
    for path in paths:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent in files:
                raise ReportFormatError(f"{path}: {parent!r} is both a file and a directory")


def _declared_entry_count(file: IO[bytes]) -> int | None:
    """Entry count from the end-of-central-directory record, read without zipfile.

    ``None`` when the record cannot be found (zipfile then reports the damage).
    """
    try:
        end = file.seek(0, 2)
        tail_size = min(end, _EOCD.size + 0xFFFF)  # the record, then a comment of <= 64 KiB
        file.seek(end - tail_size)
        tail = file.read(tail_size)
        file.seek(0)
    except (OSError, ValueError):
        return None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        return None
    count: int = _EOCD.unpack_from(tail, at)[4]
    if count != 0xFFFF:
        return count
    # zip64: the real count is in another record, found through a locator just before this one.
    if at < _ZIP64_LOCATOR.size:
        return None
    locator = _ZIP64_LOCATOR.unpack_from(tail, at - _ZIP64_LOCATOR.size)
    if locator[0] != b"PK\x06\x07":
        return None
    try:
        file.seek(locator[2])
        record = file.read(_ZIP64_EOCD.size)
        file.seek(0)
    except (OSError, ValueError, OverflowError):
        return None
    if len(record) != _ZIP64_EOCD.size or record[:4] != b"PK\x06\x06":
        return None
    zip64_count: int = _ZIP64_EOCD.unpack(record)[7]
    return zip64_count


def zip_bytes_is_zip(head: bytes) -> bool:
    """Whether ``head`` (the first bytes of a file) starts like a zip archive."""
    return head[:4] in _ZIP_MAGICS


class _CheckedEntry:
    """A zip entry whose read errors are ``ReportFormatError`` (zipfile raises ``BadZipFile``
    only once the data has been read, e.g. when it is longer than declared)."""

    def __init__(self, raw: IO[bytes], name: str) -> None:
        self._raw = raw
        self._name = name

    def read(self, size: int = -1) -> bytes:
        try:
            return self._raw.read(size)
        except (zipfile.BadZipFile, NotImplementedError, zlib.error, OSError, EOFError) as error:
            raise ReportFormatError(f"{self._name!r}: cannot be read: {error}") from None

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _CheckedEntry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SafeZip:
    """A zip archive whose every entry was checked on open, before any byte is unpacked.

    Refused on open (``ReportFormatError`` naming the entry): more than ``max_entries``
    entries, unsafe names (see ``safe_relative_path``), two entries with one name, symlinks,
    encrypted entries, a declared total size above ``max_total_bytes``, and compression ratios
    no real compressor produces. Reading cannot exceed the checked sizes: ``zipfile`` stops at
    an entry's declared size and checks its CRC.
    """

    def __init__(
        self,
        file: IO[bytes],
        *,
        max_total_bytes: int,
        max_entries: int,
        max_ratio: int = MAX_COMPRESSION_RATIO,
    ) -> None:
        declared = _declared_entry_count(file)
        if declared is not None and declared > max_entries:
            # Checked before zipfile parses the central directory into one object per entry.
            raise ReportFormatError(f"zip archive has {declared} entries, over {max_entries}")
        try:
            self._zip = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as error:
            raise ReportFormatError(f"not a valid zip archive: {error}") from None
        try:
            self._entries = self._check(max_total_bytes, max_entries, max_ratio)
        except BaseException:
            self._zip.close()
            raise

    def _check(
        self, max_total_bytes: int, max_entries: int, max_ratio: int
    ) -> dict[str, zipfile.ZipInfo]:
        infos = self._zip.infolist()
        if len(infos) > max_entries:
            raise ReportFormatError(f"zip archive has {len(infos)} entries, over {max_entries}")
        entries: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = info.filename
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ReportFormatError(f"{name!r}: symbolic links are not allowed")
            if info.flag_bits & 0x1:
                raise ReportFormatError(f"{name!r}: encrypted entries are not allowed")
            if info.is_dir():
                safe_relative_path(name.rstrip("/"))
                continue
            path = safe_relative_path(name)
            if path in entries:
                raise ReportFormatError(f"{name!r}: appears twice in the archive")
            total += info.file_size
            if total > max_total_bytes:
                raise ReportFormatError(
                    f"{name!r}: unpacked size would exceed the budget of {max_total_bytes} bytes"
                )
            if info.file_size > RATIO_FREE_BYTES and (
                info.compress_size == 0 or info.file_size / info.compress_size > max_ratio
            ):
                raise ArchiveTooLarge(
                    f"{name!r}: compression ratio over {max_ratio}:1 (a zip bomb, not a report)"
                )
            entries[path] = info
        _refuse_file_directory_clash(list(entries))
        return entries

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def names(self) -> list[str]:
        """Normalised paths of the files (directories are not listed), in archive order."""
        return list(self._entries)

    def size(self, name: str) -> int:
        """Declared unpacked size of ``name``."""
        return self._info(name).file_size

    def open(self, name: str) -> BinaryIO:
        """A stream of ``name``'s bytes; it never yields more than the declared size.

        Reading it raises ``ReportFormatError`` if the data is corrupt (a CRC mismatch, data
        longer than the entry declares).
        """
        info = self._info(name)
        try:
            entry = self._zip.open(info)
        except (zipfile.BadZipFile, NotImplementedError, zlib.error, OSError) as error:
            raise ReportFormatError(f"{name!r}: cannot be read: {error}") from None
        # Only read() and close() are used (a context manager); typeshed wants a BinaryIO.
        return cast(BinaryIO, _CheckedEntry(entry, name))

    def read(self, name: str, max_bytes: int) -> bytes:
        """All of ``name``, refused if it is larger than ``max_bytes``."""
        info = self._info(name)
        if info.file_size > max_bytes:
            raise ReportFormatError(f"{name!r}: {info.file_size} bytes, over {max_bytes}")
        try:
            with self._zip.open(info) as entry:
                data = entry.read(max_bytes + 1)
        except (zipfile.BadZipFile, NotImplementedError, zlib.error, OSError, EOFError) as error:
            raise ReportFormatError(f"{name!r}: cannot be read: {error}") from None
        if len(data) > max_bytes:
            raise ReportFormatError(f"{name!r}: more than {max_bytes} bytes")
        return data

    def _info(self, name: str) -> zipfile.ZipInfo:
        try:
            return self._entries[name]
        except KeyError:
            raise ReportFormatError(f"{name!r}: no such file in the archive") from None
