"""From a request's body or form to a stored run: pick the parser, gather files, ingest.

An upload's report files, zips and attachment parts are read in ``uploaded_files``."""

from __future__ import annotations

import mmap
import os
import posixpath
import re
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from playdeck.auth.principal import Principal
from playdeck.errors import AppError, BadRequest, InvalidInput
from playdeck.ingest.idempotency import (
    Fingerprint,
    IdempotencyKey,
    body_fingerprint,
    key_of,
)
from playdeck.ingest.live.service import KeyedPart
from playdeck.ingest.live.shards import run_key, shard
from playdeck.ingest.parsers import phenx, registry
from playdeck.ingest.parsers.archives import read_report_archive, safe_relative_path
from playdeck.ingest.parsers.format import Head, Syntax
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
from playdeck.ingest.sources import FileSource
from playdeck.ingest.uploaded_files import PartsSource, archive_refusal, parse_files, read_limited
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
        return archive_refusal(exc)
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
                record, source = parse_files(files, ingest.settings, stack)
                attachment_parts = [u for k, u in uploads if k == "attachment"]
                if attachment_parts:
                    if source is not None:
                        raise InvalidInput(
                            "Send attachments inside the zip or as parts, not both",
                            code="invalid_report",
                        )
                    source = PartsSource(attachment_parts)
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
            raise archive_refusal(exc) from exc
        if not files:
            raise ReportFormatError(f"report_{report_type}: the archive is empty")
        paths = {f.path for f in files}
        entry = "index.html" if "index.html" in paths else sorted(paths)[0]
        return ReportRecord(type=report_type, label=label, entry=entry, files=files)
    name = safe_relative_path(posixpath.basename(filename.replace("\\", "/")) or report_type)
    body = read_limited(upload, settings.max_upload_bytes)
    return ReportRecord(
        type=report_type, label=label, entry=name, files=[ReportFileRecord(path=name, body=body)]
    )


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
            body=read_limited(upload, settings.max_upload_bytes),
        )
        attempt.attachments = [*attempt.attachments, trace]
