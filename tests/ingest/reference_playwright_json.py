"""The dict-walking Playwright JSON parser that ``playwright_json`` replaced (typed msgspec
decoding), kept only as a reference for ``test_parser_equivalence``: the same records from the
same report, or a test fails.

It reads the document ``orjson.loads`` made, field by field with ``reading``'s checks, as the
parser did until the typed one; the free-form parts (error objects, output, steps, annotations,
global errors, config) go through the same ``playwright_fields`` helpers the new parser uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from playdeck.ingest import records
from playdeck.ingest.parsers import reading
from playdeck.ingest.parsers.playwright_fields import (
    flatten_steps,
    global_errors,
    normalise_tags,
    playwright_summary,
    read_annotations,
    read_error,
    read_git_and_ci,
    read_output,
    verdict,
)
from playdeck.outcomes import FAILING_STATUSES


def parse_playwright_json_dicts(
    data: object, *, fallback_started_at: datetime | None = None
) -> records.RunRecord:
    root = reading.as_object(data, "")
    config = reading.opt_object(root, "config", "")
    stats = reading.opt_object(root, "stats", "")
    tests: list[records.TestRecord] = []
    for index, suite in enumerate(reading.req_list(root, "suites", "")):
        _read_suite(suite, reading.at("suites", index), [], "", tests, file_level=True)

    started_at = reading.opt_timestamp(stats, "startTime", "stats")
    if started_at is None:
        starts = [a.started_at for t in tests for a in t.attempts if a.started_at is not None]
        started_at = min(starts, default=fallback_started_at)
    if started_at is None:
        raise reading.fail("stats", "missing 'startTime'")

    run = records.RunRecord(
        source_format="playwright-json",
        started_at=started_at,
        duration_ms=reading.duration_ms(reading.opt_number(stats, "duration", "stats")),
        tests=records.merge_repeats(tests),
    )
    run.metadata["playwright"] = playwright_summary(config, stats)
    errors = global_errors(reading.opt_list(root, "errors", ""))
    if errors:
        run.metadata["errors"] = errors
    read_git_and_ci(reading.loose_object(config, "metadata"), run)
    return run


def _read_suite(
    value: object,
    path: str,
    describe_titles: list[str],
    file: str,
    out: list[records.TestRecord],
    *,
    file_level: bool,
) -> None:
    suite = reading.as_object(value, path)
    title = reading.plain(reading.opt_str(suite, "title", path) or "")
    file = reading.normalise_file(reading.opt_str(suite, "file", path) or file or title)
    titles = describe_titles if file_level or not title else [*describe_titles, title]
    for index, spec in enumerate(reading.opt_list(suite, "specs", path)):
        _read_spec(spec, reading.at(reading.at(path, "specs"), index), titles, file, out)
    for index, child in enumerate(reading.opt_list(suite, "suites", path)):
        _read_suite(
            child,
            reading.at(reading.at(path, "suites"), index),
            titles,
            file,
            out,
            file_level=False,
        )


def _read_spec(
    value: object, path: str, titles: list[str], suite_file: str, out: list[records.TestRecord]
) -> None:
    spec = reading.as_object(value, path)
    title = reading.plain(reading.req_str(spec, "title", path))
    file = reading.normalise_file(reading.opt_str(spec, "file", path) or suite_file)
    line = reading.opt_int(spec, "line", path)
    column = reading.opt_int(spec, "column", path)
    tags = normalise_tags(reading.opt_list(spec, "tags", path), reading.at(path, "tags"))
    for index, test in enumerate(reading.req_list(spec, "tests", path)):
        out.append(
            _read_test(
                test,
                reading.at(reading.at(path, "tests"), index),
                file=file,
                title_path=[*titles, title],
                location=f"{file}:{line}:{column}" if line else file,
                spec_tags=tags,
            )
        )


def _read_test(
    value: object,
    path: str,
    *,
    file: str,
    title_path: list[str],
    location: str,
    spec_tags: list[str],
) -> records.TestRecord:
    test = reading.as_object(value, path)
    expected = reading.opt_str(test, "expectedStatus", path)
    expected_status = (
        reading.attempt_status(expected, reading.at(path, "expectedStatus")) if expected else None
    )
    annotations = read_annotations(
        reading.opt_list(test, "annotations", path), reading.at(path, "annotations")
    )
    attempts: list[records.AttemptRecord] = []
    results_path = reading.at(path, "results")
    for index, result in enumerate(reading.req_list(test, "results", path)):
        attempt, result_annotations = _read_result(result, f"{results_path}[{index}]")
        attempts.append(attempt)
        annotations.extend(result_annotations)
    attempts.sort(key=lambda a: a.retry)

    statuses = [a.status for a in attempts]
    outcome = verdict(statuses, expected_status, reading.opt_str(test, "status", path))
    failed = [a for a in attempts if a.status in FAILING_STATUSES and a.status != expected_status]
    last_failed = failed[-1] if failed else None
    return records.TestRecord(
        file=file,
        title_path=title_path,
        outcome=outcome,
        browser_project=reading.plain(reading.opt_str(test, "projectName", path) or ""),
        expected_status=expected_status,
        duration_ms=records.attempts_duration(attempts),
        location=location,
        tags=list(
            dict.fromkeys([*spec_tags, *normalise_tags(reading.opt_list(test, "tags", path), path)])
        ),
        annotations=records.unique_annotations(annotations),
        error_message=last_failed.error_message if last_failed else None,
        error_stack=last_failed.error_stack if last_failed else None,
        attempts=attempts,
    )


def _read_result(
    value: object, path: str
) -> tuple[records.AttemptRecord, list[reading.JSONObject]]:
    result = reading.as_object(value, path)
    attempt = records.AttemptRecord(
        retry=reading.opt_int(result, "retry", path),
        status=reading.attempt_status(
            reading.required(result, "status", path), reading.at(path, "status")
        ),
        duration_ms=reading.duration_ms(reading.opt_number(result, "duration", path)),
        started_at=reading.opt_timestamp(result, "startTime", path),
    )
    if stdout := reading.opt_list(result, "stdout", path):
        attempt.stdout = read_output(stdout, reading.at(path, "stdout"))
    if stderr := reading.opt_list(result, "stderr", path):
        attempt.stderr = read_output(stderr, reading.at(path, "stderr"))
    raw_errors = reading.opt_list(result, "errors", path)
    errors = [
        reading.as_object(e, reading.at(reading.at(path, "errors"), i))
        for i, e in enumerate(raw_errors)
    ]
    read_error(reading.opt_object(result, "error", path), errors, attempt)
    location = result.get("errorLocation")
    if isinstance(location, dict):
        attempt.extra["error_location"] = {
            k: location[k] for k in ("file", "line", "column") if k in location
        }
    if isinstance(result.get("workerIndex"), int):
        attempt.extra["worker_index"] = result["workerIndex"]

    if raw_steps := reading.opt_list(result, "steps", path):
        steps: list[reading.JSONObject] = []
        dropped = flatten_steps(raw_steps, reading.at(path, "steps"), 0, steps)
        attempt.steps = steps
        if dropped:
            attempt.extra["steps_dropped"] = dropped
    if raw_attachments := reading.opt_list(result, "attachments", path):
        attempt.attachments = [
            a
            for i, raw in enumerate(raw_attachments)
            if (a := _attachment(raw, reading.at(reading.at(path, "attachments"), i))) is not None
        ]
    annotations = read_annotations(
        reading.opt_list(result, "annotations", path), reading.at(path, "annotations")
    )
    return attempt, annotations


def _attachment(value: object, path: str) -> records.AttachmentRecord | None:
    raw = reading.as_object(value, path)
    body: Any = raw.get("body")
    file_path = reading.opt_str(raw, "path", path)
    if body is None and not file_path:
        return None
    return records.AttachmentRecord(
        name=reading.req_str(raw, "name", path),
        content_type=reading.opt_str(raw, "contentType", path) or "application/octet-stream",
        body=None if body is None else reading.read_base64(body, reading.at(path, "body")),
        path=file_path,
    )
