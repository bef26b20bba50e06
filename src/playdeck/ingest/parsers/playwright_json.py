"""Playwright's JSON reporter output (``--reporter=json``) as a RunRecord.

Shape: ``config``, ``suites`` (one per test file, nested suites are describe blocks, each spec
holds one test per project), ``errors`` (global), ``stats``.

Decoding is typed (msgspec, see ``typed_json``): the parts read for every test (suites, specs,
tests, results, attachments, annotations) are structs, built from the bytes without a dict in
between; the free-form parts (config, stats, global errors, error objects, output, steps) stay
plain JSON values, read by ``playwright_fields`` as the blob report's parser reads them. The top
level is decoded first with each file's suite left as raw bytes; each file is then decoded,
turned into records and dropped, so one file's structs are alive at a time, never the document's.
Names that recur (files, project names, titles) are cleaned once each.
"""

from __future__ import annotations

import mmap
from datetime import datetime
from typing import Any

import msgspec
import orjson

from playdeck.ingest.parsers.format import Head, ReportFormat, Syntax, ZipRole
from playdeck.ingest.parsers.playwright_fields import (
    annotation,
    flatten_steps,
    global_errors,
    playwright_summary,
    read_error,
    read_git_and_ci,
    read_output,
    verdict,
)
from playdeck.ingest.parsers.reading import (
    JSONObject,
    as_int,
    as_str,
    attempt_status,
    duration_ms,
    fail,
    loose_object,
    normalise_file,
    opt_number,
    opt_timestamp,
    parse_timestamp,
    plain,
    read_base64,
)
from playdeck.ingest.parsers.typed_json import decode
from playdeck.ingest.records import (
    AttachmentRecord,
    AttemptRecord,
    RunRecord,
    TestRecord,
    attempts_duration,
    merge_repeats,
    unique_annotations,
)
from playdeck.outcomes import FAILING_STATUSES, AttemptStatus

SOURCE_FORMAT = "playwright-json"


# ---- The typed shape ---------------------------------------------------------------------------
# Fields typed without ``None`` are required (a null is "missing"); ``Any`` fields are checked
# where they are read, with the messages the other formats give.


class _Struct(msgspec.Struct, rename="camel", kw_only=True, gc=False):
    """Decoded JSON is a tree: no cycles, so the structs need no garbage-collector tracking."""


class _Annotation(_Struct):
    type: str | None = None
    description: Any = None


class _Attachment(_Struct):
    name: Any = None  # required only for an attachment that is kept
    content_type: Any = None
    path: str | None = None
    body: Any = None


class _Result(_Struct):
    status: str
    retry: int | float | None = None
    duration: float | None = None
    start_time: Any = None
    worker_index: Any = None
    error: dict[str, Any] | None = None
    errors: list[dict[str, Any]] | None = None
    error_location: Any = None
    stdout: list[Any] | None = None
    stderr: list[Any] | None = None
    steps: list[Any] | None = None
    attachments: list[_Attachment] | None = None
    annotations: list[_Annotation] | None = None


class _Test(_Struct):
    results: list[_Result]
    expected_status: str | None = None
    status: str | None = None
    project_name: str | None = None
    annotations: list[_Annotation] | None = None
    tags: list[str] | None = None


class _Spec(_Struct):
    title: str
    tests: list[_Test]
    file: str | None = None
    line: int | float | None = None
    column: int | float | None = None
    tags: list[str] | None = None


class _Suite(_Struct):
    title: str | None = None
    file: str | None = None
    specs: list[_Spec] | None = None
    suites: list[_Suite] | None = None


class _Report(_Struct):
    suites: list[msgspec.Raw]  # one per file, decoded one at a time
    config: dict[str, Any] | None = None
    stats: dict[str, Any] | None = None
    errors: list[Any] | None = None


_REPORT = msgspec.json.Decoder(_Report)
_SUITE = msgspec.json.Decoder(_Suite)
# Playwright's spellings of the attempt statuses, looked up before any lower-casing.
_STATUSES = {**{s.value: s for s in AttemptStatus}, "timedOut": AttemptStatus.TIMEDOUT}


# ---- The run -----------------------------------------------------------------------------------


def parse_playwright_json(
    data: bytes | object, *, fallback_started_at: datetime | None = None
) -> RunRecord:
    """The run in a Playwright JSON report: its bytes (or a read-only map of its file), or its
    decoded value (encoded again).

    ``fallback_started_at`` (the time of upload, say) is used only when neither ``stats`` nor
    any attempt says when the run started (very old Playwright versions).
    """
    document = data if isinstance(data, bytes | mmap.mmap) else orjson.dumps(data)
    report = decode(_REPORT, document)
    _release(document)
    config = report.config or {}
    stats = report.stats or {}
    walk = _Walk()
    for index, raw in enumerate(report.suites):
        path = f"suites[{index}]"
        walk.suite(decode(_SUITE, raw, path), path, [], "", file_level=True)
        _release(document)

    started_at = opt_timestamp(stats, "startTime", "stats")
    if started_at is None:
        starts = [a.started_at for t in walk.tests for a in t.attempts if a.started_at is not None]
        started_at = min(starts, default=fallback_started_at)
    if started_at is None:
        raise fail("stats", "missing 'startTime'")

    run = RunRecord(
        source_format=SOURCE_FORMAT,
        started_at=started_at,
        duration_ms=duration_ms(opt_number(stats, "duration", "stats")),
        tests=merge_repeats(walk.tests),
    )
    run.metadata["playwright"] = playwright_summary(config, stats)
    errors = global_errors(report.errors or [])
    if errors:
        run.metadata["errors"] = errors
    read_git_and_ci(loose_object(config, "metadata"), run)
    return run


def _release(document: bytes | mmap.mmap) -> None:
    """A mapped file's pages out of this process's memory once read: the suites still to come
    are read back from the page cache, so the document is never resident whole beside the
    records."""
    if isinstance(document, mmap.mmap):
        document.madvise(mmap.MADV_DONTNEED)


class _Walk:
    """Suites into test records, with each recurring name cleaned once."""

    def __init__(self) -> None:
        self.tests: list[TestRecord] = []
        self._plain: dict[str, str] = {}
        self._files: dict[str, str] = {}

    def plain(self, text: str) -> str:
        found = self._plain.get(text)
        if found is None:
            found = self._plain[text] = plain(text)
        return found

    def file(self, text: str) -> str:
        found = self._files.get(text)
        if found is None:
            found = self._files[text] = normalise_file(text)
        return found

    def suite(
        self, suite: _Suite, path: str, titles: list[str], file: str, *, file_level: bool
    ) -> None:
        title = self.plain(suite.title or "")
        file = self.file(suite.file or file or title)
        # The file suite's title is the file name, which the key holds in `file` already;
        # anonymous describe blocks (empty titles) do not count in the path either.
        if not file_level and title:
            titles = [*titles, title]
        for index, spec in enumerate(suite.specs or ()):
            self.spec(spec, f"{path}.specs[{index}]", titles, file)
        for index, child in enumerate(suite.suites or ()):
            self.suite(child, f"{path}.suites[{index}]", titles, file, file_level=False)

    def spec(self, spec: _Spec, path: str, titles: list[str], suite_file: str) -> None:
        file = self.file(spec.file or suite_file)
        line = _whole(spec.line, path, "line")
        column = _whole(spec.column, path, "column")
        location = f"{file}:{line}:{column}" if line else file
        # One title path and one tag list for the spec's tests (one per project): records are
        # never changed in place.
        title_path = [*titles, self.plain(spec.title)]
        tags = list(dict.fromkeys(_tags(spec.tags)))
        for index, test in enumerate(spec.tests):
            self.tests.append(
                self.test(test, f"{path}.tests[{index}]", file, title_path, location, tags)
            )

    def test(
        self,
        test: _Test,
        path: str,
        file: str,
        title_path: list[str],
        location: str,
        spec_tags: list[str],
    ) -> TestRecord:
        expected = test.expected_status
        expected_status = _status(expected, path, "expectedStatus") if expected else None
        annotations = _annotations(test.annotations)
        attempts = [
            _attempt(result, f"{path}.results[{index}]", annotations)
            for index, result in enumerate(test.results)
        ]
        attempts.sort(key=_retry)
        # An attempt that failed as expected (`test.fail()`) keeps its error, but the test does
        # not show it: the test passed.
        failed = [
            a for a in attempts if a.status in FAILING_STATUSES and a.status != expected_status
        ]
        last_failed = failed[-1] if failed else None
        return TestRecord(
            file=file,
            title_path=title_path,
            outcome=verdict([a.status for a in attempts], expected_status, test.status),
            browser_project=self.plain(test.project_name or ""),
            expected_status=expected_status,
            duration_ms=attempts_duration(attempts),
            location=location,
            tags=list(dict.fromkeys([*spec_tags, *_tags(test.tags)])) if test.tags else spec_tags,
            annotations=unique_annotations(annotations) if annotations else [],
            error_message=last_failed.error_message if last_failed else None,
            error_stack=last_failed.error_stack if last_failed else None,
            attempts=attempts,
        )


# ---- Attempts ----------------------------------------------------------------------------------


def _attempt(result: _Result, path: str, annotations: list[JSONObject]) -> AttemptRecord:
    """The attempt of ``result``; its annotations are added to the test's ``annotations``."""
    attempt = AttemptRecord(
        retry=_whole(result.retry, path, "retry"),
        status=_status(result.status, path, "status"),
        duration_ms=0 if result.duration is None else duration_ms(result.duration),
        started_at=None
        if result.start_time is None
        else parse_timestamp(result.start_time, f"{path}.startTime"),
    )
    # Most attempts have no output, errors, steps or attachments.
    if result.stdout:
        attempt.stdout = read_output(result.stdout, f"{path}.stdout")
    if result.stderr:
        attempt.stderr = read_output(result.stderr, f"{path}.stderr")
    read_error(result.error, result.errors or [], attempt)
    location = result.error_location
    if isinstance(location, dict):
        attempt.extra["error_location"] = {
            k: location[k] for k in ("file", "line", "column") if k in location
        }
    if isinstance(result.worker_index, int):
        attempt.extra["worker_index"] = result.worker_index
    if result.steps:
        steps: list[JSONObject] = []
        dropped = flatten_steps(result.steps, f"{path}.steps", 0, steps)
        attempt.steps = steps
        if dropped:
            attempt.extra["steps_dropped"] = dropped
    if result.attachments:
        attempt.attachments = [
            a
            for i, raw in enumerate(result.attachments)
            if (a := _attachment(raw, f"{path}.attachments[{i}]")) is not None
        ]
    if result.annotations:
        annotations.extend(_annotations(result.annotations))
    return attempt


def _attachment(raw: _Attachment, path: str) -> AttachmentRecord | None:
    if raw.body is None and not raw.path:
        return None  # neither content nor a file: nothing to keep
    if raw.name is None:
        raise fail(path, "missing 'name'")
    content_type = raw.content_type
    if content_type is not None:
        content_type = as_str(content_type, f"{path}.contentType")
    return AttachmentRecord(
        name=as_str(raw.name, f"{path}.name"),
        content_type=content_type or "application/octet-stream",
        body=None if raw.body is None else read_base64(raw.body, f"{path}.body"),
        path=raw.path,
    )


def _annotations(values: list[_Annotation] | None) -> list[JSONObject]:
    return [annotation(a.type, a.description) for a in values or () if a.type]


def _tags(values: list[str] | None) -> list[str]:
    # The JSON reporter strips the '@' that Playwright's API and users write; put it back so
    # tags read the same whatever the source format.
    tags = [v.strip() for v in values or ()]
    return [t if t.startswith("@") else f"@{t}" for t in tags if t]


def _status(text: str, path: str, key: str) -> AttemptStatus:
    found = _STATUSES.get(text)
    return found if found is not None else attempt_status(text, f"{path}.{key}")


def _whole(value: float | None, path: str, key: str) -> int:
    """An integer field (``line``, ``retry``): an integral float is taken, as JSON allows."""
    if value is None:
        return 0
    if type(value) is int:
        return value
    return as_int(value, f"{path}.{key}")


def _retry(attempt: AttemptRecord) -> int:
    return attempt.retry


# ---- The format --------------------------------------------------------------------------------

# Playwright's JSON reporter writes config, suites, errors and stats, in that order. Only the
# first two are telling: "stats" also starts a Cypress mochawesome report.
_FIRST_KEYS = frozenset({"config", "suites"})


def sniff(head: Head) -> bool:
    if head.json_keys is not None:
        return "suites" in head.json_keys
    return head.first_json_key in _FIRST_KEYS


FORMAT = ReportFormat(
    name="playwright-json",
    label="Playwright's JSON report (config, suites)",
    syntax=Syntax.JSON,
    sniff=sniff,
    # Playwright writes stats.startTime: a report with no start time at all is refused rather
    # than dated by its upload.
    parse=lambda document, _received_at: parse_playwright_json(document),
    in_zip=ZipRole.ALONE,
    extensions=(".json",),
)
