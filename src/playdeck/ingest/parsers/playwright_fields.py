"""The free-form parts of Playwright's reports, as plain JSON values: error objects, output
chunks, steps, annotations, tags, global errors, the config summary and its git and CI facts.

Shared by the JSON report's parser (``playwright_json``, which decodes everything else into
typed structs) and the blob report's (``blob``, ``blob_events``), whose events carry the same
objects.
"""

from __future__ import annotations

from typing import Any

from playdeck.ingest.parsers.error_colours import keep_error_colours
from playdeck.ingest.parsers.reading import (
    MAX_STEPS,
    JSONObject,
    as_object,
    as_str,
    at,
    bounded_object,
    error_text,
    loose_object,
    loose_str,
    opt_list,
    opt_number,
    opt_str,
    read_base64,
    step_record,
)
from playdeck.ingest.records import AttemptRecord, RunRecord, fold_outcome
from playdeck.kit.text import clean_text
from playdeck.models.attempt import MAX_OUTPUT_CHARS
from playdeck.outcomes import FAILING_OUTCOMES, PYTEST_OUTCOMES, AttemptStatus, Outcome

_MAX_GLOBAL_ERRORS = 50
_MAX_ANNOTATION_CHARS = 2000


def verdict(
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


def read_error(error: JSONObject | None, errors: list[JSONObject], attempt: AttemptRecord) -> None:
    """An attempt's error (``error``, else the first of ``errors``) into ``attempt``."""
    chosen = error or (errors[0] if errors else {})
    if chosen:  # most attempts passed
        attempt.error_message = error_text(loose_str(chosen, "message"))
        attempt.error_stack = error_text(loose_str(chosen, "stack"))
        keep_error_colours(chosen, attempt.extra)
    if len(errors) > 1:
        # Soft assertions: every error, the first of which is also the attempt's error.
        attempt.extra["errors"] = [error_text(loose_str(e, "message")) for e in errors]


def flatten_steps(values: list[Any], path: str, depth: int, out: list[JSONObject]) -> int:
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
        dropped += flatten_steps(children, at(step_path, "steps"), depth + 1, out)
    return dropped


def _count_steps(values: list[Any]) -> int:
    return sum(1 + _count_steps(v.get("steps") or []) if isinstance(v, dict) else 1 for v in values)


def read_output(chunks: list[Any], path: str) -> str | None:
    """``stdout`` or ``stderr``: text and base64 ``buffer`` chunks, joined and bounded."""
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


def annotation(kind: str, description: object) -> JSONObject:
    return {
        "type": kind,
        "description": clean_text(description, limit=_MAX_ANNOTATION_CHARS)
        if isinstance(description, str)
        else None,
    }


def read_annotations(values: list[Any], path: str) -> list[JSONObject]:
    annotations: list[JSONObject] = []
    for index, value in enumerate(values):
        found = as_object(value, at(path, index))
        kind = opt_str(found, "type", at(path, index))
        if kind:
            annotations.append(annotation(kind, found.get("description")))
    return annotations


def normalise_tags(values: list[Any], path: str) -> list[str]:
    # The JSON reporter strips the '@' that Playwright's API and users write; put it back so
    # tags read the same whatever the source format.
    tags = [as_str(v, at(path, i)).strip() for i, v in enumerate(values)]
    return [t if t.startswith("@") else f"@{t}" for t in tags if t]


def global_errors(values: list[Any]) -> list[JSONObject]:
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


def playwright_summary(config: JSONObject, stats: JSONObject) -> JSONObject:
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
