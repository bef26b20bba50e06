"""Playwright's JSON reporter output (``--reporter=json``) as a RunRecord.

Shape: ``config``, ``suites`` (one per test file, nested suites are describe blocks, each spec
holds one test per project), ``errors`` (global), ``stats``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from playdeck.ingest.parsers.error_colours import keep_error_colours
from playdeck.ingest.parsers.format import Head, ReportFormat, Syntax, ZipRole
from playdeck.ingest.parsers.reading import (
    MAX_STEPS,
    JSONObject,
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
    read_base64,
    req_list,
    req_str,
    required,
    step_record,
)
from playdeck.ingest.records import (
    AttachmentRecord,
    AttemptRecord,
    RunRecord,
    TestRecord,
    attempts_duration,
    fold_outcome,
    merge_repeats,
    unique_annotations,
)
from playdeck.kit.text import clean_text
from playdeck.models.attempt import MAX_OUTPUT_CHARS
from playdeck.outcomes import (
    FAILING_OUTCOMES,
    FAILING_STATUSES,
    PYTEST_OUTCOMES,
    AttemptStatus,
    Outcome,
)

SOURCE_FORMAT = "playwright-json"
_MAX_GLOBAL_ERRORS = 50
_MAX_ANNOTATION_CHARS = 2000


def parse_playwright_json(
    data: object, *, fallback_started_at: datetime | None = None
) -> RunRecord:
    """The run in a decoded Playwright JSON report.

    ``fallback_started_at`` (the time of upload, say) is used only when neither ``stats`` nor
    any attempt says when the run started (very old Playwright versions).
    """
    root = as_object(data, "")
    config = opt_object(root, "config", "")
    stats = opt_object(root, "stats", "")
    tests: list[TestRecord] = []
    for index, suite in enumerate(req_list(root, "suites", "")):
        _read_suite(suite, at("suites", index), [], "", tests, file_level=True)

    started_at = opt_timestamp(stats, "startTime", "stats")
    if started_at is None:
        starts = [a.started_at for t in tests for a in t.attempts if a.started_at is not None]
        started_at = min(starts, default=fallback_started_at)
    if started_at is None:
        raise fail("stats", "missing 'startTime'")

    run = RunRecord(
        source_format=SOURCE_FORMAT,
        started_at=started_at,
        duration_ms=duration_ms(opt_number(stats, "duration", "stats")),
        tests=merge_repeats(tests),
    )
    run.metadata["playwright"] = _playwright_summary(config, stats)
    errors = _global_errors(opt_list(root, "errors", ""))
    if errors:
        run.metadata["errors"] = errors
    read_git_and_ci(loose_object(config, "metadata"), run)
    return run


def _read_suite(
    value: object,
    path: str,
    describe_titles: list[str],
    file: str,
    out: list[TestRecord],
    *,
    file_level: bool,
) -> None:
    suite = as_object(value, path)
    title = plain(opt_str(suite, "title", path) or "")
    file = normalise_file(opt_str(suite, "file", path) or file or title)
    # The file suite's title is the file name, which the key holds in `file` already;
    # anonymous describe blocks (empty titles) do not count in the path either.
    titles = describe_titles if file_level or not title else [*describe_titles, title]
    for index, spec in enumerate(opt_list(suite, "specs", path)):
        _read_spec(spec, at(at(path, "specs"), index), titles, file, out)
    for index, child in enumerate(opt_list(suite, "suites", path)):
        _read_suite(child, at(at(path, "suites"), index), titles, file, out, file_level=False)


def _read_spec(
    value: object, path: str, titles: list[str], suite_file: str, out: list[TestRecord]
) -> None:
    spec = as_object(value, path)
    title = plain(req_str(spec, "title", path))
    file = normalise_file(opt_str(spec, "file", path) or suite_file)
    line = opt_int(spec, "line", path)
    column = opt_int(spec, "column", path)
    tags = normalise_tags(opt_list(spec, "tags", path), at(path, "tags"))
    for index, test in enumerate(req_list(spec, "tests", path)):
        out.append(
            _read_test(
                test,
                at(at(path, "tests"), index),
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
) -> TestRecord:
    test = as_object(value, path)
    expected = opt_str(test, "expectedStatus", path)
    expected_status = attempt_status(expected, at(path, "expectedStatus")) if expected else None
    annotations = read_annotations(opt_list(test, "annotations", path), at(path, "annotations"))
    attempts: list[AttemptRecord] = []
    results_path = at(path, "results")
    for index, result in enumerate(req_list(test, "results", path)):
        attempt, result_annotations = _read_result(result, f"{results_path}[{index}]")
        attempts.append(attempt)
        annotations.extend(result_annotations)
    attempts.sort(key=lambda a: a.retry)

    statuses = [a.status for a in attempts]
    outcome = _outcome(statuses, expected_status, opt_str(test, "status", path))
    # An attempt that failed as expected (`test.fail()`) keeps its error, but the test does not
    # show it: the test passed.
    failed = [a for a in attempts if a.status in FAILING_STATUSES and a.status != expected_status]
    last_failed = failed[-1] if failed else None
    return TestRecord(
        file=file,
        title_path=title_path,
        outcome=outcome,
        browser_project=plain(opt_str(test, "projectName", path) or ""),
        expected_status=expected_status,
        duration_ms=attempts_duration(attempts),
        location=location,
        tags=list(dict.fromkeys([*spec_tags, *normalise_tags(opt_list(test, "tags", path), path)])),
        annotations=unique_annotations(annotations),
        error_message=last_failed.error_message if last_failed else None,
        error_stack=last_failed.error_stack if last_failed else None,
        attempts=attempts,
    )


def _outcome(
    statuses: list[AttemptStatus], expected_status: AttemptStatus | None, reported: str | None
) -> Outcome:
    """Our fold of the attempts, overruled by Playwright's own verdict when they disagree.

    Playwright knows things the attempts do not show (e.g. ``failOnFlakyTests``); we keep our
    finer word only where it agrees with Playwright's (a timeout is an ``unexpected`` outcome).
    """
    folded = fold_outcome(statuses, expected_status or AttemptStatus.PASSED)
    if folded in PYTEST_OUTCOMES:  # the pytest plugin's words: finer than any verdict
        return folded
    if reported == "expected":
        return Outcome.SKIPPED if folded is Outcome.SKIPPED else Outcome.PASSED
    if reported == "unexpected":
        return folded if folded in FAILING_OUTCOMES else Outcome.FAILED
    if reported in (Outcome.FLAKY, Outcome.SKIPPED):
        return Outcome(reported)
    return folded


def _read_result(value: object, path: str) -> tuple[AttemptRecord, list[JSONObject]]:
    result = as_object(value, path)
    attempt = AttemptRecord(
        retry=opt_int(result, "retry", path),
        status=attempt_status(required(result, "status", path), at(path, "status")),
        duration_ms=duration_ms(opt_number(result, "duration", path)),
        started_at=opt_timestamp(result, "startTime", path),
    )
    # Most attempts have no output, errors, steps or attachments: paths (for error messages)
    # are only built for fields that are there.
    if stdout := opt_list(result, "stdout", path):
        attempt.stdout = _output(stdout, at(path, "stdout"))
    if stderr := opt_list(result, "stderr", path):
        attempt.stderr = _output(stderr, at(path, "stderr"))
    raw_errors = opt_list(result, "errors", path)
    errors = (
        [as_object(e, at(at(path, "errors"), i)) for i, e in enumerate(raw_errors)]
        if raw_errors
        else []
    )
    error = opt_object(result, "error", path) or (errors[0] if errors else {})
    attempt.error_message = error_text(loose_str(error, "message"))
    attempt.error_stack = error_text(loose_str(error, "stack"))
    keep_error_colours(error, attempt.extra)
    if len(errors) > 1:
        # Soft assertions: every error, the first of which is also the attempt's error.
        attempt.extra["errors"] = [error_text(loose_str(e, "message")) for e in errors]
    location = result.get("errorLocation")
    if isinstance(location, dict):
        attempt.extra["error_location"] = {
            k: location[k] for k in ("file", "line", "column") if k in location
        }
    if isinstance(result.get("workerIndex"), int):
        attempt.extra["worker_index"] = result["workerIndex"]

    if raw_steps := opt_list(result, "steps", path):
        steps: list[JSONObject] = []
        dropped = _flatten_steps(raw_steps, at(path, "steps"), 0, steps)
        attempt.steps = steps
        if dropped:
            attempt.extra["steps_dropped"] = dropped
    if raw_attachments := opt_list(result, "attachments", path):
        attempt.attachments = [
            a
            for i, raw in enumerate(raw_attachments)
            if (a := _attachment(raw, at(at(path, "attachments"), i))) is not None
        ]
    annotations = read_annotations(opt_list(result, "annotations", path), at(path, "annotations"))
    return attempt, annotations


def _flatten_steps(values: list[Any], path: str, depth: int, out: list[JSONObject]) -> int:
    """Depth-first into ``out`` up to ``MAX_STEPS``; returns how many steps did not fit."""
    dropped = 0
    for index, value in enumerate(values):
        step_path = at(path, index)
        step = as_object(value, step_path)
        children = opt_list(step, "steps", step_path)
        if len(out) >= MAX_STEPS:
            dropped += 1 + _count_steps(children)
            continue
        error = step.get("error")
        out.append(
            step_record(
                opt_str(step, "title", step_path) or "",
                opt_number(step, "duration", step_path),
                # Playwright's JSON reporter keeps only `test.step` steps and names no category;
                # Playdeck's own reporter sends the category of every step.
                loose_str(step, "category") or "test.step",
                depth=depth,
                error=error_text(loose_str(error, "message")) if isinstance(error, dict) else None,
            )
        )
        dropped += _flatten_steps(children, at(step_path, "steps"), depth + 1, out)
    return dropped


def _count_steps(values: list[Any]) -> int:
    return sum(1 + _count_steps(v.get("steps") or []) if isinstance(v, dict) else 1 for v in values)


def _output(chunks: list[Any], path: str) -> str | None:
    parts: list[str] = []
    for index, value in enumerate(chunks):
        chunk_path = at(path, index)
        chunk = as_object(value, chunk_path)
        if "text" in chunk:
            parts.append(as_str(chunk["text"], at(chunk_path, "text")))
        elif "buffer" in chunk:
            raw = read_base64(chunk["buffer"], at(chunk_path, "buffer"))
            parts.append(raw.decode("utf-8", "replace"))
    text = clean_text("".join(parts), limit=MAX_OUTPUT_CHARS)
    return text or None


def _attachment(value: object, path: str) -> AttachmentRecord | None:
    raw = as_object(value, path)
    body = raw.get("body")
    file_path = opt_str(raw, "path", path)
    if body is None and not file_path:
        return None  # neither content nor a file: nothing to keep
    return AttachmentRecord(
        name=req_str(raw, "name", path),
        content_type=opt_str(raw, "contentType", path) or "application/octet-stream",
        body=None if body is None else read_base64(body, at(path, "body")),
        path=file_path,
    )


def read_annotations(values: list[Any], path: str) -> list[JSONObject]:
    annotations: list[JSONObject] = []
    for index, value in enumerate(values):
        annotation = as_object(value, at(path, index))
        kind = opt_str(annotation, "type", at(path, index))
        if not kind:
            continue
        description = annotation.get("description")
        annotations.append(
            {
                "type": kind,
                "description": clean_text(description, limit=_MAX_ANNOTATION_CHARS)
                if isinstance(description, str)
                else None,
            }
        )
    return annotations


def normalise_tags(values: list[Any], path: str) -> list[str]:
    # The JSON reporter strips the '@' that Playwright's API and users write; put it back so
    # tags read the same whatever the source format.
    tags = [as_str(v, at(path, i)).strip() for i, v in enumerate(values)]
    return [t if t.startswith("@") else f"@{t}" for t in tags if t]


def _global_errors(values: list[Any]) -> list[JSONObject]:
    errors: list[JSONObject] = []
    for index, value in enumerate(values[:_MAX_GLOBAL_ERRORS]):
        error = as_object(value, at("errors", index))
        entry: JSONObject = {"message": error_text(loose_str(error, "message"))}
        stack = error_text(loose_str(error, "stack"))
        if stack:
            entry["stack"] = stack
        location = error.get("location")
        if isinstance(location, dict):
            entry["location"] = {
                k: location[k] for k in ("file", "line", "column") if k in location
            }
        errors.append(entry)
    return errors


def _playwright_summary(config: JSONObject, stats: JSONObject) -> JSONObject:
    metadata = loose_object(config, "metadata")
    raw_projects = config.get("projects")
    projects = (
        [p for p in raw_projects if isinstance(p, dict)] if isinstance(raw_projects, list) else []
    )
    # Attachment paths in the report are absolute on the machine that ran the tests; the
    # output directories let the ingest service map them onto the uploaded files.
    output_dirs = sorted({d for p in projects if isinstance(d := p.get("outputDir"), str)})
    summary: JSONObject = {
        "version": loose_str(config, "version"),
        "workers": metadata.get("actualWorkers", config.get("workers")),
        "projects": [
            {"name": p.get("name"), "retries": p.get("retries"), "repeat_each": p.get("repeatEach")}
            for p in projects
        ],
        "shard": config.get("shard"),
        "root_dir": loose_str(config, "rootDir"),
        "output_dirs": output_dirs,
        "stats": {
            k: stats[k] for k in ("expected", "unexpected", "flaky", "skipped") if k in stats
        },
    }
    return bounded_object(summary, 16 * 1024)


def read_git_and_ci(metadata: JSONObject, run: RunRecord) -> None:
    """Git and CI facts from ``config.metadata``.

    Playwright >= 1.51 (``captureGitInfo``) writes ``gitCommit`` and ``ci``; older versions'
    ``gitCommitInfo()`` plugin wrote flat ``revision.*`` and ``ci.link`` keys.
    """
    git = loose_object(metadata, "gitCommit")
    ci = loose_object(metadata, "ci")
    branch = loose_str(git, "branch") or loose_str(ci, "branch")
    run.branch = branch if branch != "HEAD" else None  # a detached checkout names no branch
    run.commit_sha = (
        loose_str(git, "hash") or loose_str(ci, "commitHash") or loose_str(metadata, "revision.id")
    )
    run.commit_message = loose_str(git, "subject") or loose_str(metadata, "revision.subject")
    run.author = loose_str(loose_object(git, "author"), "name") or loose_str(
        metadata, "revision.author"
    )
    run.ci_build_url = loose_str(ci, "buildHref") or loose_str(metadata, "ci.link")
    kept = {k: v for k, v in metadata.items() if k not in ("gitDiff", "actualWorkers")}
    if kept:
        run.metadata["config"] = bounded_object(kept, 16 * 1024)


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
    parse=lambda value, _received_at: parse_playwright_json(value),
    in_zip=ZipRole.ALONE,
    extensions=(".json",),
)
