"""From a request's body or form to a stored run: pick the parser, gather files, ingest."""

from __future__ import annotations

import io
import mmap
import os
import posixpath
import re
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import orjson
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from playdeck.auth.principal import Principal
from playdeck.errors import AppError, BadRequest, InvalidInput, PayloadTooLarge
from playdeck.ingest.idempotency import (
    Fingerprint,
    IdempotencyKey,
    body_fingerprint,
    key_of,
)
from playdeck.ingest.live.service import KeyedPart
from playdeck.ingest.live.shards import run_key, shard
from playdeck.ingest.merge import merge_runs
from playdeck.ingest.parsers import phenx, registry
from playdeck.ingest.parsers.archives import SafeZip, read_report_archive, safe_relative_path
from playdeck.ingest.parsers.format import Head, ReportFormat, Syntax, ZipRole, read_whole
from playdeck.ingest.parsers.phenx import parse_phenx_upload
from playdeck.ingest.parsers.typed_json import top_level_keys
from playdeck.ingest.records import (
    ArchiveTooLarge,
    AttachmentRecord,
    MalformedJSON,
    ReportFileRecord,
    ReportFormatError,
    ReportRecord,
    RunRecord,
)
from playdeck.ingest.result import IngestResult
from playdeck.ingest.run_fields import CLIENT_NAMES
from playdeck.ingest.service import RunTarget, ingest_run
from playdeck.ingest.sources import FileSource, PathMapper
from playdeck.kit.clock import utcnow
from playdeck.kit.gc import gc_paused
from playdeck.settings import Settings
from playdeck.storage.base import BlobStore

_REPORT_PART = re.compile(r"^report_([a-z0-9_-]{1,64})$")
_TRACE_PART = re.compile(r"^trace_(\d{1,9})$")
MAX_OVERRIDE_CHARS = 10_000


def _loads(data: bytes | str, what: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc}", code="malformed_json") from exc


def _invalid(exc: ReportFormatError) -> AppError:
    if isinstance(exc, ArchiveTooLarge):
        return _too_large(exc)
    if isinstance(exc, MalformedJSON):
        return BadRequest(f"The report is not valid JSON: {exc}", code="malformed_json")
    return InvalidInput(f"Invalid report: {exc}", code="invalid_report")


@dataclass(frozen=True, slots=True)
class RunOverrides:
    """What a client said about its run beside the report (``run_fields.CLIENT_NAMES``): it
    overrides what the report says."""

    values: dict[str, str]  # ``RunRecord`` attribute → the client's value
    tags: list[str] | None = None

    def apply(self, record: RunRecord) -> None:
        for attribute, value in self.values.items():
            setattr(record, attribute, value)
        if self.tags:
            record.tags = list(dict.fromkeys([*record.tags, *self.tags]))


def overrides_from(fields: dict[str, str]) -> RunOverrides:
    raw_tags = fields.get("tags")
    tags: list[str] | None = None
    if raw_tags:
        if raw_tags.lstrip().startswith("["):
            parsed = _loads(raw_tags, "tags")
            if not isinstance(parsed, list) or not all(isinstance(t, str) for t in parsed):
                raise InvalidInput("tags must be a list of strings", code="invalid_tags")
            tags = parsed
        else:
            tags = [t.strip() for t in raw_tags.split(",") if t.strip()]
    for name, value in fields.items():
        if (name in CLIENT_NAMES or name == "tags") and len(value) > MAX_OVERRIDE_CHARS:
            raise InvalidInput(f"{name} is too long", code="field_too_long")
    values = {CLIENT_NAMES[name]: fields[name] for name in CLIENT_NAMES if fields.get(name)}
    return RunOverrides(values, tags)


@dataclass(frozen=True, slots=True)
class Ingestion:
    """What storing a parsed run takes besides the run: the file store, the server's settings
    (project creation, file sizes) and who sends it."""

    store: BlobStore
    settings: Settings
    principal: Principal

    def store_run(
        self,
        session: Session,
        record: RunRecord,
        *,
        source: FileSource | None = None,
        idempotency: IdempotencyKey | None = None,
        target: RunTarget | None = None,
        consume: bool = False,
    ) -> IngestResult:
        """Persist ``record``; ``consume``: it was parsed for this request alone (see
        ``service.ingest_run``)."""
        return ingest_run(
            session,
            store=self.store,
            principal=self.principal,
            record=record,
            auto_create_project=self.settings.auto_create_projects,
            users_can_create_projects=self.settings.users_can_create_projects,
            max_file_bytes=self.settings.max_upload_bytes,
            source=source,
            idempotency=idempotency,
            target=target,
            consume=consume,
        )


def keyed_part(key: str | None, shard_spec: str | None) -> KeyedPart | None:
    """The ``RunTarget`` of an upload that names its CI build (``runKey``, ``shard``)."""
    key = run_key(key)
    found = shard(shard_spec)
    if key is None and found is None:
        return None
    return KeyedPart(key=key, shard=found, live=False)


def _read_body(
    body: bytes | Path, principal: Principal, idempotency_key: str | None
) -> tuple[bytes | mmap.mmap, IdempotencyKey | None]:
    """The body, and the request's idempotency key (over its bytes).

    A spooled body is mapped rather than read: the parser gives the pages of what it has read
    back to the page cache (``playwright_json``), so a big report is never resident whole beside
    its records. The pages hashed here are given back at once."""
    raw = _mapped(body) if isinstance(body, Path) else body
    key = key_of(principal, idempotency_key, body_fingerprint(raw))
    if isinstance(raw, mmap.mmap):
        raw.madvise(mmap.MADV_DONTNEED)
    return raw, key


def _mapped(path: Path) -> bytes | mmap.mmap:
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return b""  # an empty file cannot be mapped
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


@gc_paused()
def submit_json(
    session: Session,
    ingest: Ingestion,
    *,
    body: bytes | Path,
    project_name: str | None,
    idempotency_key: str | None = None,
    target: RunTarget | None = None,
) -> IngestResult:
    """``POST /api/test-runs/submit``: the PhenX reporter's JSON or a Playwright JSON report.

    ``body`` may be a file holding it (the ingest worker's spool): it is mapped, not read, and
    the parser gives back its pages as it goes (``_read_body``)."""
    raw, idempotency = _read_body(body, ingest.principal, idempotency_key)
    try:
        keys = top_level_keys(raw)
    except MalformedJSON as exc:
        raise BadRequest(f"Request body is not valid JSON: {exc}", code="malformed_json") from exc
    if keys is None:
        raise InvalidInput("Request body must be a JSON object", code="invalid_report")
    # The endpoint's own format is the PhenX reporter's body; another format is read when the
    # body is recognisably that format.
    report_format = registry.sniff_json(Head(syntax=Syntax.JSON, json_keys=keys)) or phenx.FORMAT
    try:
        record = report_format.parse(raw, utcnow())
    except ReportFormatError as exc:
        raise _invalid(exc) from exc
    # The body is the largest thing left once it is parsed: free it before the rows are built.
    del raw
    if project_name:
        record.project_name = project_name
    return ingest.store_run(session, record, idempotency=idempotency, target=target, consume=True)


class _PartsSource:
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


class _ZipSource:
    def __init__(self, archive: SafeZip, mapper: PathMapper) -> None:
        self.archive = archive
        self.mapper = mapper

    def open(self, path: str) -> BinaryIO | None:
        name = self.mapper.resolve(path)
        return None if name is None else self.archive.open(name)


def _read_limited(upload: UploadFile, limit: int) -> bytes:
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
        raise _archive_error(exc) from exc
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


def _zip_report(archive: SafeZip, name: str, settings: Settings, role: ZipRole) -> RunRecord | None:
    """The run in zip entry ``name`` when it is a report of a format that plays ``role``."""
    head, content = read_whole(archive.read(name, settings.max_upload_bytes))
    report_format = registry.sniff(head)
    if report_format is None or report_format.in_zip is not role:
        return None
    return report_format.parse(content, utcnow())


def _zip_labels() -> str:
    return " or ".join(f.label for f in registry.FORMATS if f.in_zip is not ZipRole.NEVER)


def _report_from_upload(
    report_type: str, label: str | None, upload: UploadFile, settings: Settings
) -> ReportRecord:
    filename = upload.filename or report_type
    if filename.endswith(".gz"):
        try:
            files = read_report_archive(
                upload.file,
                max_total_bytes=settings.max_unpacked_mb * 1024 * 1024,
                max_entries=settings.max_archive_entries,
                max_ratio=settings.max_compression_ratio,
            )
        except ReportFormatError as exc:
            raise _archive_error(exc) from exc
        if not files:
            raise ReportFormatError(f"report_{report_type}: the archive is empty")
        paths = {f.path for f in files}
        entry = "index.html" if "index.html" in paths else sorted(paths)[0]
        return ReportRecord(type=report_type, label=label, entry=entry, files=files)
    name = safe_relative_path(posixpath.basename(filename.replace("\\", "/")) or report_type)
    body = _read_limited(upload, settings.max_upload_bytes)
    return ReportRecord(
        type=report_type, label=label, entry=name, files=[ReportFileRecord(path=name, body=body)]
    )


def _archive_error(exc: ReportFormatError) -> AppError:
    if isinstance(exc, ArchiveTooLarge):
        return _too_large(exc)
    return BadRequest(f"Unsafe or invalid archive: {exc}", code="invalid_archive")


def _too_large(exc: ArchiveTooLarge) -> PayloadTooLarge:
    return PayloadTooLarge(f"Archive over a limit: {exc}", code="archive_too_large")


def _parse_files(
    files: list[UploadFile], settings: Settings, stack: ExitStack
) -> tuple[RunRecord, FileSource | None]:
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
    return report_format.parse(_read_limited(upload, settings.max_upload_bytes), utcnow())


def _form_fingerprint(form: FormData, project_name: str | None) -> str:
    fingerprint = Fingerprint()
    fingerprint.field("?projectName", project_name or "")
    for name, value in form.multi_items():
        if isinstance(value, str):
            fingerprint.field(name, value)
        else:
            fingerprint.file(name, value.filename, value.file)
    return fingerprint.hexdigest()


@gc_paused()
def upload_form(
    session: Session,
    ingest: Ingestion,
    *,
    form: FormData,
    project_name: str | None,
    idempotency_key: str | None = None,
    target: RunTarget | None = None,
) -> IngestResult:
    """``POST /api/test-runs/upload``: the PhenX reporter's parts or generic report files."""
    idempotency = None
    if idempotency_key is not None:
        idempotency = key_of(
            ingest.principal, idempotency_key, _form_fingerprint(form, project_name)
        )
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    target = target or keyed_part(fields.get("runKey"), fields.get("shard"))
    uploads = [(k, v) for k, v in form.multi_items() if not isinstance(v, str)]
    overrides = overrides_from(fields)
    project = fields.get("projectName") or fields.get("project") or project_name
    with ExitStack() as stack:
        source: FileSource | None = None
        try:
            if "testRun" in fields:
                record = _parse_phenx_form(fields, uploads, ingest.settings)
            else:
                files = [u for k, u in uploads if k == "file"]
                if not files:
                    raise InvalidInput(
                        "Nothing to ingest: send a 'file' part (Playwright JSON, JUnit XML or "
                        "zip) or the reporter's 'testRun' part",
                        code="no_report",
                    )
                record, source = _parse_files(files, ingest.settings, stack)
                attachment_parts = [u for k, u in uploads if k == "attachment"]
                if attachment_parts:
                    if source is not None:
                        raise InvalidInput(
                            "Send attachments inside the zip or as parts, not both",
                            code="invalid_report",
                        )
                    source = _PartsSource(attachment_parts)
        except ReportFormatError as exc:
            raise _invalid(exc) from exc
        if project:
            record.project_name = project
        overrides.apply(record)
        return ingest.store_run(
            session, record, source=source, idempotency=idempotency, target=target, consume=True
        )


def _parse_phenx_form(
    fields: dict[str, str], uploads: list[tuple[str, UploadFile]], settings: Settings
) -> RunRecord:
    test_run = _loads(fields["testRun"], "testRun")
    test_cases = _loads(fields["testCases"], "testCases") if "testCases" in fields else []
    record = parse_phenx_upload(test_run, test_cases)
    labels = {
        k[len("report_label_") :]: v for k, v in fields.items() if k.startswith("report_label_")
    }
    traces: dict[int, UploadFile] = {}
    for name, upload in uploads:
        if name == "htmlReport":
            name = "report_html"
        if (match := _REPORT_PART.match(name)) is not None:
            report_type = match.group(1)
            record.reports.append(
                _report_from_upload(report_type, labels.get(report_type), upload, settings)
            )
        elif (match := _TRACE_PART.match(name)) is not None:
            traces[int(match.group(1))] = upload
    _attach_traces(record, traces, settings)
    return record


def _attach_traces(record: RunRecord, traces: dict[int, UploadFile], settings: Settings) -> None:
    """``trace_<N>`` is the trace of ``testCases[N]`` (one element per attempt)."""
    if not traces:
        return
    by_index = {
        attempt.source_index: attempt
        for test in record.tests
        for attempt in test.attempts
        if attempt.source_index is not None
    }
    for index, upload in sorted(traces.items()):
        attempt = by_index.get(index)
        if attempt is None:
            raise ReportFormatError(f"trace_{index}: there is no testCases[{index}]")
        trace = AttachmentRecord(
            name="trace",
            content_type="application/zip",
            body=_read_limited(upload, settings.max_upload_bytes),
        )
        attempt.attachments = [*attempt.attachments, trace]
