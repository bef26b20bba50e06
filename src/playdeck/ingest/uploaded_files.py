"""An upload's files: its report files and zips read into one run, and where the files the
report names come from (the zips, or the ``attachment`` parts).

Each file is what the format registry says it is (``registry.detect``). A zip's reports are
found by the registry too; several zips in one upload (the blob reports of every shard), or a
zip of such zips, make one run, and all the zips of one request share one unpack budget.
"""

from __future__ import annotations

import io
import posixpath
from contextlib import ExitStack
from typing import BinaryIO, cast

from starlette.datastructures import UploadFile

from playdeck.errors import AppError, BadRequest, InvalidInput, PayloadTooLarge
from playdeck.ingest.merge import merge_runs
from playdeck.ingest.parsers import registry
from playdeck.ingest.parsers.archives import SafeZip, safe_relative_path
from playdeck.ingest.parsers.format import ReportFormat, ZipRole, read_whole
from playdeck.ingest.records import ArchiveTooLarge, ReportFormatError, RunRecord
from playdeck.ingest.sources import FileSource, PathMapper
from playdeck.kit.clock import utcnow
from playdeck.settings import Settings


def parse_files(
    files: list[UploadFile], settings: Settings, stack: ExitStack
) -> tuple[RunRecord, FileSource | None]:
    """The run in an upload's ``file`` parts, and where the files it names are (``None`` for
    report files alone: theirs may come as ``attachment`` parts, ``PartsSource``). The zips
    stay open on ``stack`` until the run is stored."""
    records: list[RunRecord] = []
    sources: list[FileSource] = []
    kinds = []
    for upload in files:
        head = upload.file.read(512)
        upload.file.seek(0)
        kinds.append(registry.detect(upload.filename, head))
    zips = kinds.count(registry.Container.ZIP)
    if zips and zips != len(files):
        raise InvalidInput(
            "Send zips on their own (several zips make one run), not with report files",
            code="invalid_report",
        )
    budget = _UnpackBudget(settings)
    for upload, kind in zip(files, kinds, strict=True):
        if kind is registry.Container.ZIP:
            record, zip_source = _parse_zip(upload, settings, stack, budget)
            records.append(record)
            sources.append(zip_source)
        elif isinstance(kind, ReportFormat):
            records.append(_parse_upload(kind, upload, settings))
        else:
            raise ReportFormatError(f"{upload.filename}: a {kind} file is not a report")
    if not sources:
        return merge_runs(records), None
    return merge_runs(records), sources[0] if len(sources) == 1 else _FirstOf(sources)


def _parse_upload(report_format: ReportFormat, upload: UploadFile, settings: Settings) -> RunRecord:
    # JSON too goes to the parser as bytes: a typed parser decodes them without a dict between.
    return report_format.parse(read_limited(upload, settings.max_upload_bytes), utcnow())


def read_limited(upload: UploadFile, limit: int) -> bytes:
    """An uploaded file's bytes, refused past ``limit``."""
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"{upload.filename or 'file'} is too large", code="payload_too_large")
    return data


class _UnpackBudget:
    """What every zip of one request may unpack to, together (``PLAYDECK_MAX_UNPACKED_MB``):
    several shard zips, or the zips inside a zip, share one budget as one zip's entries do."""

    def __init__(self, settings: Settings) -> None:
        self.limit = settings.max_unpacked_mb * 1024 * 1024
        self.left = self.limit

    def charge(self, archive: SafeZip, name: str) -> None:
        self.left -= sum(archive.size(n) for n in archive.names())
        if self.left < 0:
            raise _too_large(
                ArchiveTooLarge(f"{name}: the zips unpack to more than {self.limit} bytes together")
            )


def _parse_zip(
    upload: UploadFile, settings: Settings, stack: ExitStack, budget: _UnpackBudget
) -> tuple[RunRecord, FileSource]:
    try:
        archive = _open_zip(upload.file, settings)
    except ReportFormatError as exc:
        raise archive_refusal(exc) from exc
    stack.enter_context(archive)
    budget.charge(archive, upload.filename or "zip")
    found = _zip_reports(archive, settings)
    if found is not None:
        return found
    # A zip of report zips (the blob reports of every shard, say): each one read, one run.
    records: list[RunRecord] = []
    sources: list[FileSource] = []
    for name in sorted(n for n in archive.names() if n.lower().endswith(".zip")):
        data = archive.read(name, settings.max_upload_bytes)
        try:
            inner = _open_zip(io.BytesIO(data), settings)
        except ArchiveTooLarge as exc:
            raise _too_large(exc) from exc
        except ReportFormatError:
            continue  # not a zip after all: a file like any other
        stack.enter_context(inner)
        budget.charge(inner, name)
        if (inner_found := _zip_reports(inner, settings)) is not None:
            records.append(inner_found[0])
            sources.append(inner_found[1])
    if not records:
        raise ReportFormatError(f"the zip holds no report: expected {_zip_labels()}")
    return merge_runs(records), _FirstOf(sources)


def _open_zip(file: BinaryIO, settings: Settings) -> SafeZip:
    return SafeZip(
        file,
        max_total_bytes=settings.max_unpacked_mb * 1024 * 1024,
        max_entries=settings.max_archive_entries,
        max_ratio=settings.max_compression_ratio,
    )


def _zip_reports(archive: SafeZip, settings: Settings) -> tuple[RunRecord, FileSource] | None:
    """The run in a zip's reports with its files, ``None`` when the zip holds no report."""
    names = archive.names()
    reports: list[RunRecord] = []
    report_dir = ""
    # A report that owns the zip (its attachment paths are relative to it): the shallowest.
    alone = [n for n in names if registry.claims(n, ZipRole.ALONE)]
    for name in sorted(alone, key=lambda n: (n.count("/"), n)):
        found = _zip_report(archive, name, settings, ZipRole.ALONE)
        if found is not None:
            reports.append(found)
            report_dir = posixpath.dirname(name)
            break
    if not reports:
        # Otherwise every shard (the JUnit files of parallel jobs, blob reports' event logs),
        # merged into one run.
        for name in sorted(n for n in names if registry.claims(n, ZipRole.SHARD)):
            found = _zip_report(archive, name, settings, ZipRole.SHARD)
            if found is not None:
                reports.append(found)
    if not reports:
        return None
    return merge_runs(reports), _ZipSource(archive, PathMapper(names, base_dir=report_dir))


def _zip_report(archive: SafeZip, name: str, settings: Settings, role: ZipRole) -> RunRecord | None:
    """The run in zip entry ``name`` when it is a report of a format that plays ``role``."""
    head, content = read_whole(archive.read(name, settings.max_upload_bytes))
    report_format = registry.sniff(head)
    if report_format is None or report_format.in_zip is not role:
        return None
    return report_format.parse(content, utcnow())


def _zip_labels() -> str:
    return " or ".join(f.label for f in registry.FORMATS if f.in_zip is not ZipRole.NEVER)


class _ZipSource:
    def __init__(self, archive: SafeZip, mapper: PathMapper) -> None:
        self.archive = archive
        self.mapper = mapper

    def open(self, path: str) -> BinaryIO | None:
        name = self.mapper.resolve(path)
        return None if name is None else self.archive.open(name)


class _FirstOf:
    """The files of several zips uploaded together: a path is looked up in each, in order.

    Blob reports name their files ``resources/<sha1 of path and a per-run salt>``, so the zips
    of different shards never share a name."""

    def __init__(self, sources: list[FileSource]) -> None:
        self._sources = sources

    def open(self, path: str) -> BinaryIO | None:
        for source in self._sources:
            if (found := source.open(path)) is not None:
                return found
        return None


class PartsSource:
    """Attachment files sent as ``attachment`` parts, named by the path the report uses."""

    def __init__(self, parts: list[UploadFile]) -> None:
        self._parts: dict[str, UploadFile] = {}
        for part in parts:
            try:
                name = safe_relative_path((part.filename or "").replace("\\", "/"))
            except ReportFormatError as exc:
                raise BadRequest(f"attachment part: {exc}", code="invalid_attachment") from exc
            self._parts[name] = part
        self.mapper = PathMapper(self._parts)

    def open(self, path: str) -> BinaryIO | None:
        name = self.mapper.resolve(path)
        if name is None:
            return None
        handle = self._parts[name].file
        handle.seek(0)
        return cast(BinaryIO, _Unclosable(handle))


class _Unclosable(io.BufferedIOBase):
    """Reads a spooled part without letting the ingest close it (the form owns it)."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._inner.read(-1 if size is None else size)


def archive_refusal(exc: ReportFormatError) -> AppError:
    """How an archive the reader refused is answered (zips, and the PhenX reporter's ``.gz``
    reports): over a limit 413, unsafe or invalid 400."""
    if isinstance(exc, ArchiveTooLarge):
        return _too_large(exc)
    return BadRequest(f"Unsafe or invalid archive: {exc}", code="invalid_archive")


def _too_large(exc: ArchiveTooLarge) -> PayloadTooLarge:
    return PayloadTooLarge(f"Archive over a limit: {exc}", code="archive_too_large")
