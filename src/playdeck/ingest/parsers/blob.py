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

Several blob reports (the shards of one build) are read one by one and merged by the caller.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from playdeck.ingest.parsers import playwright_json
from playdeck.ingest.parsers.format import Head, ReportFormat, Syntax, ZipRole
from playdeck.ingest.parsers.reading import (
    MAX_STEPS,
    JSONObject,
    as_list,
    as_object,
    as_str,
    at,
    attempt_status,
    bounded_object,
    duration_ms,
    error_text,
    fail,
    loose_object,
    loose_str,
    normalise_file,
    opt_int,
    opt_list,
    opt_number,
    opt_object,
    opt_str,
    opt_timestamp,
    plain,
    req_str,
    required,
    step_record,
)
from playdeck.ingest.records import (
    AttachmentRecord,
    AttemptRecord,
    ReportFormatError,
    RunRecord,
    TestRecord,
    fold_outcome,
    merge_repeats,
    unique_annotations,
)
from playdeck.kit.text import clean_text
from playdeck.models.attempt import MAX_OUTPUT_CHARS
from playdeck.outcomes import CUT_SHORT_STATUSES, FAILING_STATUSES, AttemptStatus, RunStatus

SOURCE_FORMAT = "playwright-blob"
# The blob format versions read: 1 (the first Playwright versions with blob reports) and 2 (what
# current Playwright writes; merge-reports upgrades 1 to 2 by turning suites/tests into entries).
# A newer version may change what the events mean; it is refused rather than guessed at.
SUPPORTED_VERSIONS = (1, 2)
_METADATA_EVENT = "onBlobReportMetadata"
_MAX_GLOBAL_ERRORS = 50
# Output kept per attempt while reading, before the final cut (bounds memory on chatty tests).
_MAX_OUTPUT_PARTS = 10_000


@dataclass(slots=True)
class _Test:
    """A test as ``onProject`` declares it, and its attempts as the events arrive."""

    project: str
    file: str
    title_path: list[str]
    location: str
    tags: list[str]
    annotations: list[JSONObject]
    expected_status: AttemptStatus | None = None
    attempts: list[AttemptRecord] = field(default_factory=list)


@dataclass(slots=True)
class _Attempt:
    record: AttemptRecord
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    # step id -> (its record, None when it is not kept; the depth of it or its nearest kept
    # ancestor, -1 when none)
    steps: dict[str, tuple[JSONObject | None, int]] = field(default_factory=dict)
    kept_steps: int = 0
    steps_dropped: int = 0


class _Reader:
    def __init__(self) -> None:
        self.tests: dict[str, _Test] = {}
        self.attempts: dict[str, _Attempt] = {}
        self.config: JSONObject = {}
        self.projects: list[JSONObject] = []
        self.errors: list[JSONObject] = []
        self.end: JSONObject = {}

    def event(self, method: str, params: Any, path: str) -> None:
        handler = _HANDLERS.get(method)
        if handler is not None:
            handler(self, as_object(params, at(path, "params")), at(path, "params"))

    def on_configure(self, params: JSONObject, path: str) -> None:
        self.config = opt_object(params, "config", path)

    def on_project(self, params: JSONObject, path: str) -> None:
        project = as_object(required(params, "project", path), at(path, "project"))
        project_path = at(path, "project")
        name = plain(opt_str(project, "name", project_path) or "")
        self.projects.append(
            {
                "name": name,
                "retries": project.get("retries"),
                "repeat_each": project.get("repeatEach"),
            }
        )
        for index, suite in enumerate(opt_list(project, "suites", project_path)):
            self._suite(suite, at(at(project_path, "suites"), index), name, [], file_level=True)

    def _suite(
        self, value: object, path: str, project: str, titles: list[str], *, file_level: bool
    ) -> None:
        suite = as_object(value, path)
        title = plain(opt_str(suite, "title", path) or "")
        # The file suite's title is the file, which the key holds already; anonymous describe
        # blocks do not count in the path.
        inner = titles if file_level or not title else [*titles, title]
        if "entries" in suite:  # version 2
            entries = as_list(suite["entries"], at(path, "entries"))
            children = [(e, at(at(path, "entries"), i)) for i, e in enumerate(entries)]
        else:  # version 1: describe suites, then tests
            children = [
                (e, at(at(path, key), i))
                for key in ("suites", "tests")
                for i, e in enumerate(opt_list(suite, key, path))
            ]
        for child, child_path in children:
            if isinstance(child, dict) and "testId" in child:
                self._test(child, child_path, project, inner)
            else:
                self._suite(child, child_path, project, inner, file_level=False)

    def _test(self, test: JSONObject, path: str, project: str, titles: list[str]) -> None:
        test_id = req_str(test, "testId", path)
        location = opt_object(test, "location", path)
        file = normalise_file(opt_str(location, "file", at(path, "location")) or "")
        line = opt_int(location, "line", at(path, "location"))
        column = opt_int(location, "column", at(path, "location"))
        self.tests[test_id] = _Test(
            project=project,
            file=file,
            title_path=[*titles, plain(req_str(test, "title", path))],
            location=f"{file}:{line}:{column}" if line else file,
            tags=playwright_json.normalise_tags(opt_list(test, "tags", path), at(path, "tags")),
            annotations=playwright_json.read_annotations(
                opt_list(test, "annotations", path), at(path, "annotations")
            ),
        )

    def on_test_begin(self, params: JSONObject, path: str) -> None:
        test = self._known_test(params, path)
        result = as_object(required(params, "result", path), at(path, "result"))
        result_path = at(path, "result")
        attempt = AttemptRecord(
            retry=opt_int(result, "retry", result_path),
            status=AttemptStatus.INTERRUPTED,  # until its onTestEnd says otherwise
            started_at=opt_timestamp(result, "startTime", result_path),
        )
        if isinstance(result.get("workerIndex"), int):
            attempt.extra["worker_index"] = result["workerIndex"]
        self.attempts[req_str(result, "id", result_path)] = _Attempt(attempt)
        test.attempts.append(attempt)

    def on_test_end(self, params: JSONObject, path: str) -> None:
        test_end = as_object(required(params, "test", path), at(path, "test"))
        test = self._known_test(test_end, at(path, "test"))
        expected = opt_str(test_end, "expectedStatus", at(path, "test"))
        if expected:
            test.expected_status = attempt_status(expected, at(path, "test.expectedStatus"))
        result_path = at(path, "result")
        result = as_object(required(params, "result", path), result_path)
        attempt = self._attempt(req_str(result, "id", result_path), result_path)
        record = attempt.record
        record.status = attempt_status(required(result, "status", result_path), result_path)
        record.duration_ms = duration_ms(opt_number(result, "duration", result_path))
        errors_path = at(result_path, "errors")
        raw_errors = opt_list(result, "errors", result_path)
        errors = [as_object(e, at(errors_path, i)) for i, e in enumerate(raw_errors)]
        if errors:
            record.error_message = error_text(loose_str(errors[0], "message"))
            record.error_stack = error_text(loose_str(errors[0], "stack"))
            if len(errors) > 1:
                record.extra["errors"] = [error_text(loose_str(e, "message")) for e in errors]
            location = errors[0].get("location")
            if isinstance(location, dict):
                record.extra["error_location"] = {
                    k: location[k] for k in ("file", "line", "column") if k in location
                }
        test.annotations.extend(
            playwright_json.read_annotations(
                opt_list(result, "annotations", result_path), at(result_path, "annotations")
            )
        )
        # Version 1 sent the attempt's attachments here rather than in onAttach events.
        self._attach(attempt, opt_list(result, "attachments", result_path), result_path)
        record.stdout = _output(attempt.stdout)
        record.stderr = _output(attempt.stderr)
        record.steps = [s for s, _ in attempt.steps.values() if s is not None]
        if attempt.steps_dropped:
            record.extra["steps_dropped"] = attempt.steps_dropped

    def on_std_io(self, params: JSONObject, path: str) -> None:
        result_id = opt_str(params, "resultId", path)
        if result_id is None or result_id not in self.attempts:
            return  # output outside any test (global setup): not an attempt's
        attempt = self.attempts[result_id]
        data = as_str(required(params, "data", path), at(path, "data"))
        if params.get("isBase64"):
            data = _base64(data, at(path, "data")).decode("utf-8", "replace")
        parts = attempt.stderr if params.get("type") == "stderr" else attempt.stdout
        if len(parts) < _MAX_OUTPUT_PARTS:
            parts.append(data)

    def on_attach(self, params: JSONObject, path: str) -> None:
        attempt = self._attempt(req_str(params, "resultId", path), path)
        self._attach(attempt, opt_list(params, "attachments", path), path)

    def _attach(self, attempt: _Attempt, values: list[Any], path: str) -> None:
        for index, value in enumerate(values):
            item_path = at(at(path, "attachments"), index)
            raw = as_object(value, item_path)
            inline = opt_str(raw, "base64", item_path)
            file_path = opt_str(raw, "path", item_path)
            if inline is None and not file_path:
                continue
            attempt.record.attachments.append(
                AttachmentRecord(
                    name=req_str(raw, "name", item_path),
                    content_type=opt_str(raw, "contentType", item_path)
                    or "application/octet-stream",
                    body=None if inline is None else _base64(inline, at(item_path, "base64")),
                    path=None if inline is not None else file_path,
                )
            )

    def on_step_begin(self, params: JSONObject, path: str) -> None:
        attempt = self._attempt(req_str(params, "resultId", path), path)
        step_path = at(path, "step")
        step = as_object(required(params, "step", path), step_path)
        parent_id = opt_str(step, "parentStepId", step_path)
        # Depth counts kept ancestors only: a test.step inside a hook is at the top level.
        parent_depth = attempt.steps[parent_id][1] if parent_id in attempt.steps else -1
        record: JSONObject | None = None
        # Like Playwright's JSON report: only the test's own ``test.step`` blocks are steps.
        if opt_str(step, "category", step_path) == "test.step":
            if attempt.kept_steps < MAX_STEPS:
                record = step_record(
                    opt_str(step, "title", step_path) or "", 0, "test.step", depth=parent_depth + 1
                )
                attempt.kept_steps += 1
            else:
                attempt.steps_dropped += 1
        depth = parent_depth + 1 if record is not None else parent_depth
        attempt.steps[req_str(step, "id", step_path)] = (record, depth)

    def on_step_end(self, params: JSONObject, path: str) -> None:
        attempt = self._attempt(req_str(params, "resultId", path), path)
        step_path = at(path, "step")
        step = as_object(required(params, "step", path), step_path)
        record, _ = attempt.steps.get(req_str(step, "id", step_path), (None, 0))
        if record is None:
            return
        record["duration"] = duration_ms(opt_number(step, "duration", step_path))
        error = step.get("error")
        if isinstance(error, dict) and (message := error_text(loose_str(error, "message"))):
            record["error"] = message

    def on_error(self, params: JSONObject, path: str) -> None:
        if len(self.errors) >= _MAX_GLOBAL_ERRORS:
            return
        error = opt_object(params, "error", path)
        entry: JSONObject = {"message": error_text(loose_str(error, "message"))}
        if stack := error_text(loose_str(error, "stack")):
            entry["stack"] = stack
        self.errors.append(entry)

    def on_end(self, params: JSONObject, path: str) -> None:
        self.end = opt_object(params, "result", path)

    def _known_test(self, params: JSONObject, path: str) -> _Test:
        test_id = req_str(params, "testId", path)
        test = self.tests.get(test_id)
        if test is None:
            raise fail(at(path, "testId"), f"test {test_id!r} is not in any onProject event")
        return test

    def _attempt(self, result_id: str, path: str) -> _Attempt:
        attempt = self.attempts.get(result_id)
        if attempt is None:
            raise fail(path, f"result {result_id!r} has no onTestBegin event before it")
        return attempt


_HANDLERS = {
    "onConfigure": _Reader.on_configure,
    "onProject": _Reader.on_project,
    "onTestBegin": _Reader.on_test_begin,
    "onTestEnd": _Reader.on_test_end,
    "onStdIO": _Reader.on_std_io,
    "onAttach": _Reader.on_attach,
    "onStepBegin": _Reader.on_step_begin,
    "onStepEnd": _Reader.on_step_end,
    "onError": _Reader.on_error,
    "onEnd": _Reader.on_end,
}


def parse_blob_events(data: bytes, *, name: str = "report.jsonl") -> RunRecord:
    """The run in one blob report's event lines (the ``report.jsonl`` of one shard's zip)."""
    reader = _Reader()
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


def _run(reader: _Reader, metadata: JSONObject, name: str) -> RunRecord:
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
    playwright_json.read_git_and_ci(loose_object(config, "metadata"), run)
    return run


def _test(test: _Test) -> TestRecord:
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
        duration_ms=sum(a.duration_ms for a in attempts),
        location=test.location,
        tags=test.tags,
        annotations=unique_annotations(test.annotations),
        error_message=last_failed.error_message if last_failed else None,
        error_stack=last_failed.error_stack if last_failed else None,
        attempts=attempts,
    )


def _output(parts: list[str]) -> str | None:
    return clean_text("".join(parts), limit=MAX_OUTPUT_CHARS) or None


def _base64(value: str, path: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise fail(path, "invalid base64") from None


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
