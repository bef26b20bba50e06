"""Playwright's blob report (``--reporter=blob``) as a RunRecord.

A blob report is a zip: ``report.jsonl`` plus the attachment files under ``resources/``. The
``.jsonl`` is the stream of reporter events Playwright replays in ``merge-reports``, one JSON
object ``{"method", "params"}`` per line:

- ``onBlobReportMetadata`` (first line): the format ``version``, the shard, the path separator;
- ``onConfigure``: the config (``rootDir``, ``version``, ``shard``, ``metadata``);
- ``onProject``, one per project: its name, retries and the suite tree of the tests *this shard*
  ran (file suites, describe suites, tests with a ``testId``, a location relative to ``rootDir``,
  tags and static annotations). Version 1 wrote ``suites`` and ``tests`` lists, version 2 one
  ``entries`` list;
- per attempt: ``onTestBegin`` (``result.id``, ``retry``, ``startTime``), ``onStdIO``,
  ``onStepBegin``/``onStepEnd``, ``onAttach`` (``path`` into ``resources/``, or inline
  ``base64``), ``onTestEnd`` (``expectedStatus``, status, duration, errors, annotations; version 1
  also its attachments);
- ``onError`` (global errors) and ``onEnd`` (the run's status, start and duration).

The events are read by ``blob_events.EventReader``. Several blob reports (the shards of one
build) are read one by one and merged by the caller.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from playdeck.ingest.parsers import playwright_fields
from playdeck.ingest.parsers.blob_events import BlobTest, EventReader
from playdeck.ingest.parsers.format import Head, ReportFormat, Syntax, ZipRole
from playdeck.ingest.parsers.reading import (
    JSONObject,
    as_object,
    at,
    bounded_object,
    duration_ms,
    fail,
    loose_object,
    loose_str,
    opt_number,
    opt_timestamp,
    req_str,
)
from playdeck.ingest.records import (
    ReportFormatError,
    RunRecord,
    TestRecord,
    attempts_duration,
    fold_outcome,
    merge_repeats,
    unique_annotations,
)
from playdeck.outcomes import CUT_SHORT_STATUSES, FAILING_STATUSES, AttemptStatus, RunStatus

SOURCE_FORMAT = "playwright-blob"
# The blob format versions read: 1 (the first Playwright versions with blob reports) and 2 (what
# current Playwright writes; merge-reports upgrades 1 to 2 by turning suites/tests into entries).
# A newer version may change what the events mean; it is refused rather than guessed at.
SUPPORTED_VERSIONS = (1, 2)
_METADATA_EVENT = "onBlobReportMetadata"


def parse_blob_events(data: bytes, *, name: str = "report.jsonl") -> RunRecord:
    """The run in one blob report's event lines (the ``report.jsonl`` of one shard's zip)."""
    reader = EventReader()
    metadata: JSONObject | None = None
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        path = f"{name}:{number}"
        try:
            event = as_object(orjson.loads(line), path)
        except orjson.JSONDecodeError as exc:
            raise ReportFormatError(f"{path}: not JSON: {exc}") from None
        method = req_str(event, "method", path)
        if metadata is None:
            metadata = _metadata(method, event.get("params"), path)
            continue
        reader.event(method, event.get("params"), path)
    if metadata is None:
        raise ReportFormatError(f"{name}: empty blob report")
    return _run(reader, metadata, name)


def _metadata(method: str, params: object, path: str) -> JSONObject:
    if method != _METADATA_EVENT:
        raise fail(path, f"a blob report starts with {_METADATA_EVENT}, not {method!r}")
    metadata = as_object(params, at(path, "params"))
    version = metadata.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise fail(at(path, "params.version"), "missing or not an integer")
    if version not in SUPPORTED_VERSIONS:
        supported = " and ".join(str(v) for v in SUPPORTED_VERSIONS)
        newer = "; a newer Playwright wrote it" if version > max(SUPPORTED_VERSIONS) else ""
        raise ReportFormatError(
            f"blob report format version {version} is not supported (Playdeck reads versions "
            f"{supported}){newer}"
        )
    return metadata


def _run(reader: EventReader, metadata: JSONObject, name: str) -> RunRecord:
    tests = [_test(t) for t in reader.tests.values()]
    started_at = opt_timestamp(reader.end, "startTime", f"{name}: onEnd.result")
    if started_at is None:
        starts = [a.started_at for t in tests for a in t.attempts if a.started_at is not None]
        started_at = min(starts, default=None)
    if started_at is None:
        raise ReportFormatError(f"{name}: no onEnd event and no attempt says when the run started")
    run = RunRecord(
        source_format=SOURCE_FORMAT,
        started_at=started_at,
        duration_ms=duration_ms(opt_number(reader.end, "duration", f"{name}: onEnd.result")),
        tests=merge_repeats(tests),
    )
    status = loose_str(reader.end, "status")
    if status in CUT_SHORT_STATUSES:
        run.status = RunStatus(status)
    config = reader.config
    shard = metadata.get("shard") or config.get("shard")
    run.metadata["playwright"] = bounded_object(
        {
            "version": loose_str(config, "version"),
            "blob_version": metadata["version"],
            "user_agent": loose_str(metadata, "userAgent"),
            "workers": loose_object(config, "metadata").get("actualWorkers", config.get("workers")),
            "projects": reader.projects,
            "shard": shard if isinstance(shard, dict) else None,
            "root_dir": loose_str(config, "rootDir"),
        },
        16 * 1024,
    )
    if reader.errors:
        run.metadata["errors"] = reader.errors
    playwright_fields.read_git_and_ci(loose_object(config, "metadata"), run)
    return run


def _test(test: BlobTest) -> TestRecord:
    attempts = sorted(test.attempts, key=lambda a: a.retry)
    expected = test.expected_status or AttemptStatus.PASSED
    failed = [a for a in attempts if a.status in FAILING_STATUSES and a.status != expected]
    last_failed = failed[-1] if failed else None
    return TestRecord(
        file=test.file,
        title_path=test.title_path,
        outcome=fold_outcome([a.status for a in attempts], expected),
        browser_project=test.project,
        expected_status=test.expected_status,
        duration_ms=attempts_duration(attempts),
        location=test.location,
        tags=test.tags,
        annotations=unique_annotations(test.annotations),
        error_message=last_failed.error_message if last_failed else None,
        error_stack=last_failed.error_stack if last_failed else None,
        attempts=attempts,
    )


def sniff(head: Head) -> bool:
    return head.syntax is Syntax.JSON_LINES and head.json_keys_seen() >= {"method", "params"}


def _parse(data: bytes, _received_at: datetime) -> RunRecord:
    return parse_blob_events(data)


FORMAT = ReportFormat(
    name=SOURCE_FORMAT,
    label="Playwright's blob report (report.jsonl, --reporter=blob)",
    syntax=Syntax.JSON_LINES,
    sniff=sniff,
    parse=_parse,
    # Each shard's events are one document; the shards of a zip (or of several zips) make one
    # run, and their attachment paths (resources/...) are relative to the zip's root.
    in_zip=ZipRole.SHARD,
    extensions=(".jsonl",),
)
