"""pytest's test reports in, a report in the shape of Playwright's JSON reporter out.

Everything is built from ``pytest_runtest_logreport`` reports, never from collected items: under
pytest-xdist the controller collects nothing and sees only the reports its workers send.

pytest's outcomes in Playwright's words (and so as the server stores them):

- passed, failed: ``passed``, ``failed``; skipped: ``skipped`` with a ``skip`` annotation (reason).
- xfail that failed as expected: Playwright's ``test.fail()``, i.e. ``expectedStatus: "failed"``
  with a ``failed`` attempt, which the server counts as *passed*; the error stays on the attempt
  and an ``xfail`` annotation carries the reason. ``xfail(run=False)`` never runs: skipped.
- xpass: passed with an ``xpass`` annotation; a strict xpass is the failure pytest reports.
- an error in setup or teardown fails the test's attempt, the message prefixed with the phase
  (``[setup error] ...``); a failed subtest fails it too (``[subtest ...] ...``).
- pytest-rerunfailures: every run of a test is one attempt (``retry`` 0, 1, ...), so a test that
  passes on a rerun is flaky.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

# Set by MarkerTagger on each report (on the worker, under xdist); survives xdist's serialisation.
TAGS_ATTRIBUTE = "playdeck_tags"
MAX_OUTPUT_CHARS = 64 * 1024
MAX_ERROR_CHARS = 64 * 1024
MAX_RUN_ERRORS = 50
_PHASES = ("setup", "call", "teardown")
# pytest-xdist reports a test whose worker died in this phase.
_CRASH = "???"
_ERROR_PREFIX = {"setup": "[setup error] ", "teardown": "[teardown error] "}
# Markers that steer pytest rather than describe the test: not tags.
_MECHANICAL_MARKERS = frozenset(
    {"parametrize", "usefixtures", "filterwarnings", "skip", "skipif", "xfail"}
)
_WORKER_ID = re.compile(r"^gw(\d+)$")

JSONObject = dict[str, Any]


def bounded(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, saying so."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - 64)
    return text[:keep] + f"\n… [playdeck: {len(text) - keep} characters cut]"


def marker_tags(item: pytest.Item) -> list[str]:
    """The names of the markers on ``item`` (closest first), as tags."""
    names = (marker.name for marker in item.iter_markers())
    return list(dict.fromkeys(n for n in names if n not in _MECHANICAL_MARKERS))


def split_nodeid(nodeid: str) -> tuple[str, list[str], str]:
    """File, enclosing class names, and title (function name with its parametrize id)."""
    # Parametrize ids may hold anything, "::" included; node names before them may not.
    head, bracket, params = nodeid.partition("[")
    parts = head.split("::")
    file = parts[0]
    names = parts[1:] or [file.rsplit("/", 1)[-1]]
    return file, names[:-1], names[-1] + bracket + params


@dataclass(slots=True)
class _Error:
    message: str
    stack: str | None

    def as_json(self, prefix: str = "") -> JSONObject:
        error: JSONObject = {"message": prefix + self.message}
        if self.stack:
            error["stack"] = self.stack
        return error


@dataclass(slots=True)
class _Phase:
    outcome: str  # passed, failed, skipped, or pytest-rerunfailures' "rerun"
    started: float
    duration: float
    error: _Error | None = None
    skip_reason: str | None = None
    xfail_reason: str | None = None  # pytest's ``wasxfail``

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "rerun")


@dataclass(slots=True)
class _Attempt:
    retry: int
    phases: dict[str, _Phase] = field(default_factory=dict)
    subtest_errors: list[JSONObject] = field(default_factory=list)
    stdout: dict[str, str] = field(default_factory=dict)  # phase -> captured text
    stderr: dict[str, str] = field(default_factory=dict)
    worker_index: int | None = None


@dataclass(slots=True)
class _Test:
    file: str
    classes: list[str]
    title: str
    line: int | None
    tags: list[str] = field(default_factory=list)
    attempts: list[_Attempt] = field(default_factory=list)


@dataclass(slots=True)
class _Verdict:
    status: str
    expected: str
    errors: list[JSONObject] = field(default_factory=list)
    annotations: list[JSONObject] = field(default_factory=list)


class Recorder:
    """A pytest plugin object that keeps what the reports say; ``report()`` builds the JSON."""

    def __init__(self) -> None:
        self.started_at = time.time()
        self._tests: dict[str, _Test] = {}
        self._errors: dict[str, _Error] = {}
        self._workers: set[int] = set()

    @property
    def empty(self) -> bool:
        return not self._tests and not self._errors

    def pytest_sessionstart(self) -> None:
        self.started_at = time.time()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not report.failed or len(self._errors) >= MAX_RUN_ERRORS:
            return
        error = _error(report)
        # Each xdist worker collects, and reports the same error.
        self._errors.setdefault(
            report.nodeid, _Error(f"collecting {report.nodeid}: {error.message}", error.stack)
        )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        test = self._tests.get(report.nodeid)
        if test is None:
            test = self._tests[report.nodeid] = _new_test(report)
        tags = report.__dict__.get(TAGS_ATTRIBUTE)
        if isinstance(tags, list) and not test.tags:
            test.tags = [str(t) for t in tags]
        attempt = _attempt_for(test, report)
        worker = _WORKER_ID.match(str(getattr(report, "worker_id", "")))
        if worker is not None:
            attempt.worker_index = int(worker[1])
            self._workers.add(attempt.worker_index)
        if _is_subtest(report):
            if report.failed:
                attempt.subtest_errors.append(
                    _error(report).as_json(f"[subtest {_subtest_name(report)}] ")
                )
            return
        attempt.phases[str(report.when)] = _phase(report)
        # Each report repeats what earlier phases captured; the last word per phase wins.
        for title, content in report.sections:
            words = title.split()
            if len(words) == 3 and words[0] == "Captured" and words[2] in _PHASES:
                if words[1] == "stdout":
                    attempt.stdout[words[2]] = bounded(content, MAX_OUTPUT_CHARS)
                elif words[1] == "stderr":
                    attempt.stderr[words[2]] = bounded(content, MAX_OUTPUT_CHARS)

    def report(self, *, root_dir: str, metadata: JSONObject) -> JSONObject:
        """The session as Playwright's JSON reporter would have written it."""
        files: dict[str, JSONObject] = {}
        stats = {"expected": 0, "unexpected": 0, "flaky": 0, "skipped": 0}
        for test in self._tests.values():
            spec = _spec(test)
            stats[spec["tests"][0]["status"]] += 1
            suite = files.get(test.file)
            if suite is None:
                suite = files[test.file] = _suite(test.file, test.file)
            for name in test.classes:
                suite = _child_suite(suite, name, test.file)
            suite["specs"].append(spec)
        now = time.time()
        workers = len(self._workers) or 1
        return {
            "config": {
                "rootDir": root_dir,
                "workers": workers,
                "metadata": {**metadata, "actualWorkers": workers},
                "projects": [{"name": "", "outputDir": None}],
            },
            "suites": list(files.values()),
            "errors": [e.as_json() for e in self._errors.values()],
            "stats": {
                "startTime": _iso(self.started_at),
                "duration": round((now - self.started_at) * 1000, 3),
                **stats,
            },
        }


def _new_test(report: pytest.TestReport) -> _Test:
    file, classes, title = split_nodeid(report.nodeid)
    path, line, _domain = report.location
    # The reported location may be another file (a test inherited from a base class elsewhere).
    same_file = path.replace("\\", "/") == file
    return _Test(
        file=file,
        classes=classes,
        title=title,
        line=line + 1 if same_file and isinstance(line, int) else None,
    )


def _attempt_for(test: _Test, report: pytest.TestReport) -> _Attempt:
    # pytest-rerunfailures numbers every run of a test; without it, a setup starts a new run.
    retry = getattr(report, "rerun", None)
    if isinstance(retry, int) and retry >= 0:
        for attempt in test.attempts:
            if attempt.retry == retry:
                return attempt
    elif test.attempts and report.when != "setup":
        return test.attempts[-1]
    else:
        retry = len(test.attempts)
    attempt = _Attempt(retry=retry)
    test.attempts.append(attempt)
    return attempt


def _is_subtest(report: pytest.TestReport) -> bool:
    # pytest >= 9 (``pytest.SubtestReport``) and the pytest-subtests plugin alike.
    return hasattr(getattr(report, "context", None), "kwargs")


def _subtest_name(report: pytest.TestReport) -> str:
    context = getattr(report, "context", None)
    msg = getattr(context, "msg", None)
    kwargs = getattr(context, "kwargs", None) or {}
    parts = [str(msg)] if msg is not None else []
    parts.extend(f"{k}={v}" for k, v in kwargs.items())
    return " ".join(parts) or "<subtest>"


def _phase(report: pytest.TestReport) -> _Phase:
    phase = _Phase(
        outcome=report.outcome,
        started=getattr(report, "start", 0.0) or time.time(),
        duration=report.duration or 0.0,
    )
    xfail = getattr(report, "wasxfail", None)
    if isinstance(xfail, str):
        phase.xfail_reason = xfail
    if phase.failed or (xfail is not None and report.longrepr is not None):
        phase.error = _error(report)
    elif report.skipped:
        phase.skip_reason = _skip_reason(report.longrepr)
    return phase


def _error(report: pytest.TestReport | pytest.CollectReport) -> _Error:
    text = report.longreprtext.strip()
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    if not isinstance(message, str) or not message.strip():
        # No crash line (an import error while collecting, a plain string): the last "E" line
        # says what went wrong, else the first line does.
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        raised = [line[1:].strip() for line in lines if line.startswith("E ")]
        message = raised[-1] if raised else next(iter(lines), "failed")
    message = bounded(message, MAX_ERROR_CHARS)
    stack = bounded(text, MAX_ERROR_CHARS) if text and text != message else None
    return _Error(message, stack)


def _skip_reason(longrepr: object) -> str | None:
    # A skip's longrepr is (path, line, "Skipped: reason"); xdist sends the tuple as a list.
    if isinstance(longrepr, tuple | list) and len(longrepr) == 3:
        reason = str(longrepr[2])
    elif isinstance(longrepr, str):
        reason = longrepr
    else:
        return None
    return reason.removeprefix("Skipped: ").strip() or None


def _verdict(attempt: _Attempt) -> _Verdict:
    phases = attempt.phases
    setup, call = phases.get("setup"), phases.get("call")
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
        return _Verdict("failed", "passed", errors=errors)
    if call is not None and call.outcome == "skipped" and call.xfail_reason is not None:
        return _Verdict(
            "failed",
            "failed",
            errors=[call.error.as_json()] if call.error else [],
            annotations=[_annotation("xfail", call.xfail_reason)],
        )
    skipped = next((p for p in (setup, call) if p is not None and p.outcome == "skipped"), None)
    if skipped is not None:
        if skipped.xfail_reason is not None:  # xfail(run=False), or pytest.xfail() in a fixture
            return _Verdict("skipped", "skipped", [], [_annotation("xfail", skipped.xfail_reason)])
        return _Verdict("skipped", "skipped", [], [_annotation("skip", skipped.skip_reason)])
    if call is None:
        # Set up but never called: the session stopped (Ctrl-C, a crash) in between.
        return _Verdict("interrupted", "passed")
    if call.xfail_reason is not None:
        return _Verdict("passed", "passed", [], [_annotation("xpass", call.xfail_reason)])
    return _Verdict("passed", "passed")


def _annotation(kind: str, description: str | None) -> JSONObject:
    annotation: JSONObject = {"type": kind}
    if description:
        annotation["description"] = description
    return annotation


def _spec(test: _Test) -> JSONObject:
    attempts = sorted(test.attempts, key=lambda a: a.retry)
    verdicts = [_verdict(a) for a in attempts]
    last = verdicts[-1]
    annotations: list[JSONObject] = []
    for verdict in verdicts:
        annotations.extend(a for a in verdict.annotations if a not in annotations)
    return {
        "title": test.title,
        "ok": last.status in (last.expected, "skipped"),
        "tags": test.tags,
        "tests": [
            {
                "timeout": 0,
                "annotations": annotations,
                "expectedStatus": last.expected,
                "projectId": "",
                "projectName": "",
                "results": [_result(a, v) for a, v in zip(attempts, verdicts, strict=True)],
                "status": _test_status(verdicts),
            }
        ],
        "id": "",
        "file": test.file,
        "line": test.line or 0,
        "column": 1 if test.line else 0,
    }


def _test_status(verdicts: list[_Verdict]) -> str:
    """Playwright's verdict on a test: expected, unexpected, flaky or skipped."""
    last = verdicts[-1]
    if last.status == "skipped":
        return "skipped"
    if last.status != last.expected:
        return "unexpected"
    earlier_failed = any(v.status not in (v.expected, "skipped") for v in verdicts[:-1])
    return "flaky" if earlier_failed else "expected"


def _result(attempt: _Attempt, verdict: _Verdict) -> JSONObject:
    phases = list(attempt.phases.values())
    started = min((p.started for p in phases), default=time.time())
    result: JSONObject = {
        "retry": attempt.retry,
        "status": verdict.status,
        "duration": round(sum(p.duration for p in phases) * 1000, 3),
        "startTime": _iso(started),
        "errors": verdict.errors,
        "stdout": _output(attempt.stdout),
        "stderr": _output(attempt.stderr),
        "attachments": [],
    }
    if verdict.errors:
        result["error"] = verdict.errors[0]
    if attempt.worker_index is not None:
        result["workerIndex"] = attempt.worker_index
    return result


def _output(by_phase: dict[str, str]) -> list[JSONObject]:
    text = "".join(by_phase[p] for p in _PHASES if p in by_phase)
    return [{"text": bounded(text, MAX_OUTPUT_CHARS)}] if text else []


def _suite(title: str, file: str) -> JSONObject:
    return {"title": title, "file": file, "line": 0, "column": 0, "specs": [], "suites": []}


def _child_suite(parent: JSONObject, title: str, file: str) -> JSONObject:
    for suite in parent["suites"]:
        if suite["title"] == title:
            return suite  # type: ignore[no-any-return]
    child = _suite(title, file)
    parent["suites"].append(child)
    return child


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="milliseconds")
