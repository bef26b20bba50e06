"""The events of a blob report's ``report.jsonl``, read into tests and attempts.

Each handler takes one event's ``params`` (see ``blob`` for the event list); attempts are found
by their result id, tests by their test id, as Playwright's ``TeleReporterReceiver`` does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playdeck.ingest.parsers import playwright_fields
from playdeck.ingest.parsers.reading import (
    MAX_STEPS,
    JSONObject,
    as_list,
    as_object,
    as_str,
    at,
    attempt_status,
    duration_ms,
    error_text,
    fail,
    loose_str,
    normalise_file,
    opt_int,
    opt_list,
    opt_number,
    opt_object,
    opt_str,
    opt_timestamp,
    plain,
    read_base64,
    req_str,
    required,
    step_record,
)
from playdeck.ingest.records import AttachmentRecord, AttemptRecord
from playdeck.kit.text import clean_text
from playdeck.models.attempt import MAX_OUTPUT_CHARS
from playdeck.outcomes import AttemptStatus

_MAX_GLOBAL_ERRORS = 50
# Output kept per attempt while reading, before the final cut (bounds memory on chatty tests).
_MAX_OUTPUT_PARTS = 10_000


@dataclass(slots=True)
class BlobTest:
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


class EventReader:
    def __init__(self) -> None:
        self.tests: dict[str, BlobTest] = {}
        self.attempts: dict[str, _Attempt] = {}
        self.config: JSONObject = {}
        self.projects: list[JSONObject] = []
        self.errors: list[JSONObject] = []
        self.end: JSONObject = {}

    def event(self, method: str, params: Any, path: str) -> None:
        handler = HANDLERS.get(method)
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
        self.tests[test_id] = BlobTest(
            project=project,
            file=file,
            title_path=[*titles, plain(req_str(test, "title", path))],
            location=f"{file}:{line}:{column}" if line else file,
            tags=playwright_fields.normalise_tags(opt_list(test, "tags", path), at(path, "tags")),
            annotations=playwright_fields.read_annotations(
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
            playwright_fields.read_annotations(
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
            data = read_base64(data, at(path, "data")).decode("utf-8", "replace")
        parts = attempt.stderr if params.get("type") == "stderr" else attempt.stdout
        if len(parts) < _MAX_OUTPUT_PARTS:
            parts.append(data)

    def on_attach(self, params: JSONObject, path: str) -> None:
        attempt = self._attempt(req_str(params, "resultId", path), path)
        self._attach(attempt, opt_list(params, "attachments", path), path)

    def _attach(self, attempt: _Attempt, values: list[Any], path: str) -> None:
        found: list[AttachmentRecord] = []
        for index, value in enumerate(values):
            item_path = at(at(path, "attachments"), index)
            raw = as_object(value, item_path)
            inline = opt_str(raw, "base64", item_path)
            file_path = opt_str(raw, "path", item_path)
            if inline is None and not file_path:
                continue
            found.append(
                AttachmentRecord(
                    name=req_str(raw, "name", item_path),
                    content_type=opt_str(raw, "contentType", item_path)
                    or "application/octet-stream",
                    body=None if inline is None else read_base64(inline, at(item_path, "base64")),
                    path=None if inline is not None else file_path,
                )
            )
        if found:  # records' sequences are replaced, never changed (``AttemptRecord``)
            attempt.record.attachments = [*attempt.record.attachments, *found]

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

    def _known_test(self, params: JSONObject, path: str) -> BlobTest:
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


HANDLERS = {
    "onConfigure": EventReader.on_configure,
    "onProject": EventReader.on_project,
    "onTestBegin": EventReader.on_test_begin,
    "onTestEnd": EventReader.on_test_end,
    "onStdIO": EventReader.on_std_io,
    "onAttach": EventReader.on_attach,
    "onStepBegin": EventReader.on_step_begin,
    "onStepEnd": EventReader.on_step_end,
    "onError": EventReader.on_error,
    "onEnd": EventReader.on_end,
}


def _output(parts: list[str]) -> str | None:
    return clean_text("".join(parts), limit=MAX_OUTPUT_CHARS) or None
