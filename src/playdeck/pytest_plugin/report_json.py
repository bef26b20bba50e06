"""Recorded tests in the shape of Playwright's JSON reporter: verdicts, specs, suites.

Each attempt's ``status`` is pytest's own word for it, so that a run's counts in Playdeck are
pytest's summary (``outcomes.Outcome`` has pytest's three words Playwright lacks):

- passed, failed: ``passed``, ``failed``; skipped: ``skipped`` with a ``skip`` annotation (reason).
- xfail that failed as expected, or was not run (``run=False``, ``pytest.xfail()``):
  ``xfailed`` (expected status ``failed``); the error stays on the attempt and an ``xfail``
  annotation carries the reason.
- xpass: ``xpassed`` with an ``xpass`` annotation; a strict xpass is the failure pytest reports.
- an error in setup or teardown: ``error``, the message prefixed with the phase
  (``[setup error] ...``); a call that failed stays ``failed``, its teardown error listed after.
  A failed subtest fails the attempt (``[subtest ...] ...``).
- a module that fails to collect: a test of its own (``tests/test_x.py`` titled
  ``tests.test_x``, as pytest's JUnit XML names it) in ``error``, ``[collection error] ...``.
- pytest-rerunfailures: every run of a test is one attempt (``retry`` 0, 1, ...), so a test that
  passes on a rerun is flaky.

The test's ``status`` is Playwright's verdict (expected, unexpected, flaky, skipped); the
server keeps pytest's finer word where the attempts carry one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from playdeck.pytest_plugin.attempts import (
    COLLECT,
    MAX_OUTPUT_CHARS,
    PHASES,
    Attempt,
    JSONObject,
    RecordedTest,
    bounded,
)
from playdeck.pytest_plugin.playwright_artifacts import content_type

# pytest-xdist reports a test whose worker died in this phase.
_CRASH = "???"

_ERROR_PREFIX = {"setup": "[setup error] ", "teardown": "[teardown error] "}
# Attempt statuses that are no failure: an earlier attempt ending so does not make a test flaky.
_NOT_FAILED = frozenset({"passed", "skipped", "xfailed", "xpassed"})


@dataclass(slots=True)
class Verdict:
    status: str
    expected: str
    errors: list[JSONObject] = field(default_factory=list)
    annotations: list[JSONObject] = field(default_factory=list)


def _verdict(attempt: Attempt) -> Verdict:
    phases = attempt.phases
    setup, call = phases.get("setup"), phases.get("call")
    collect = phases.get(COLLECT)
    if collect is not None and collect.error is not None:
        return Verdict("error", "passed", errors=[collect.error.as_json("[collection error] ")])
    errors = [
        phase.error.as_json(_ERROR_PREFIX.get(when, ""))
        for when in ("setup", "call", _CRASH, "teardown")
        if (phase := phases.get(when)) is not None and phase.failed and phase.error is not None
    ]
    if call is not None and call.failed:
        # pytest's subtest summary failure says less than the subtests' own errors.
        errors[0:0] = attempt.subtest_errors
    else:
        errors.extend(attempt.subtest_errors)
    if errors:
        # pytest's "error": a fixture failed (setup or teardown) and the test itself did not.
        fixture_only = not (call is not None and call.failed) and not attempt.subtest_errors
        if fixture_only and not (_CRASH in phases and phases[_CRASH].failed):
            return Verdict("error", "passed", errors=errors)
        return Verdict("failed", "passed", errors=errors)
    if call is not None and call.outcome == "skipped" and call.xfail_reason is not None:
        return Verdict(
            "xfailed",
            "failed",
            errors=[call.error.as_json()] if call.error else [],
            annotations=[_annotation("xfail", call.xfail_reason)],
        )
    skipped = next((p for p in (setup, call) if p is not None and p.outcome == "skipped"), None)
    if skipped is not None:
        if skipped.xfail_reason is not None:  # xfail(run=False), or pytest.xfail() in a fixture
            return Verdict("xfailed", "failed", [], [_annotation("xfail", skipped.xfail_reason)])
        return Verdict("skipped", "skipped", [], [_annotation("skip", skipped.skip_reason)])
    if call is None:
        # Set up but never called: the session stopped (Ctrl-C, a crash) in between.
        return Verdict("interrupted", "passed")
    if call.xfail_reason is not None:
        return Verdict("xpassed", "failed", [], [_annotation("xpass", call.xfail_reason)])
    return Verdict("passed", "passed")


def _annotation(kind: str, description: str | None) -> JSONObject:
    annotation: JSONObject = {"type": kind}
    if description:
        annotation["description"] = description
    return annotation


def spec_of(test: RecordedTest) -> JSONObject:
    attempts = sorted(test.attempts, key=lambda a: a.retry)
    verdicts = [_verdict(a) for a in attempts]
    last = verdicts[-1]
    annotations: list[JSONObject] = []
    for verdict in verdicts:
        annotations.extend(a for a in verdict.annotations if a not in annotations)
    status = _test_status(verdicts)
    return {
        "title": test.title,
        "ok": status != "unexpected",
        "tags": test.tags,
        "tests": [
            {
                "timeout": 0,
                "annotations": annotations,
                "expectedStatus": last.expected,
                "projectId": test.project,
                "projectName": test.project,
                "results": [_result(a, v) for a, v in zip(attempts, verdicts, strict=True)],
                "status": status,
            }
        ],
        "id": "",
        "file": test.file,
        "line": test.line or 0,
        "column": 1 if test.line else 0,
    }


def _test_status(verdicts: list[Verdict]) -> str:
    """Playwright's verdict on a test: expected, unexpected, flaky or skipped."""
    last = verdicts[-1]
    if last.status == "skipped":
        return "skipped"
    if last.status not in ("xfailed", "xpassed") and last.status != last.expected:
        return "unexpected"
    earlier_failed = any(v.status not in _NOT_FAILED for v in verdicts[:-1])
    return "flaky" if earlier_failed else "expected"


def _result(attempt: Attempt, verdict: Verdict) -> JSONObject:
    phases = list(attempt.phases.values())
    started = min((p.started for p in phases), default=time.time())
    result: JSONObject = {
        "retry": attempt.retry,
        "status": verdict.status,
        "duration": round(sum(p.duration for p in phases) * 1000, 3),
        "startTime": iso_time(started),
        "errors": verdict.errors,
        "stdout": _output(attempt.stdout),
        "stderr": _output(attempt.stderr),
        "attachments": [
            {
                "name": Path(artifact.path).name,
                "contentType": content_type(artifact.path),
                "path": artifact.upload_name,
            }
            for artifact in attempt.artifacts
        ],
    }
    if verdict.errors:
        result["error"] = verdict.errors[0]
    if attempt.worker_index is not None:
        result["workerIndex"] = attempt.worker_index
    return result


def _output(by_phase: dict[str, str]) -> list[JSONObject]:
    text = "".join(by_phase[p] for p in PHASES if p in by_phase)
    return [{"text": bounded(text, MAX_OUTPUT_CHARS)}] if text else []


def new_suite(title: str, file: str) -> JSONObject:
    return {"title": title, "file": file, "line": 0, "column": 0, "specs": [], "suites": []}


def child_suite(parent: JSONObject, title: str, file: str) -> JSONObject:
    for suite in parent["suites"]:
        if suite["title"] == title:
            return suite  # type: ignore[no-any-return]
    child = new_suite(title, file)
    parent["suites"].append(child)
    return child


def iso_time(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds")
