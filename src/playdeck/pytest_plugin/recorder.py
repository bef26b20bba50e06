"""pytest's test reports in, a report in the shape of Playwright's JSON reporter out.

Everything is built from ``pytest_runtest_logreport`` reports, never from collected items: under
pytest-xdist the controller collects nothing and sees only the reports its workers send.

The data kept per test is in ``attempts``; how pytest's outcomes become Playwright's words is
in ``report_json``.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from playdeck.pytest_plugin.attempts import (
    COLLECT,
    MAX_ERROR_CHARS,
    MAX_OUTPUT_CHARS,
    PHASES,
    Artifact,
    Attempt,
    Error,
    JSONObject,
    Phase,
    RecordedTest,
    bounded,
)
from playdeck.pytest_plugin.report_json import child_suite, iso_time, new_suite, spec_of

__all__ = [
    "ARTIFACTS_ATTRIBUTE",
    "BROWSER_ATTRIBUTE",
    "MAX_OUTPUT_CHARS",
    "TAGS_ATTRIBUTE",
    "TITLE_ATTRIBUTE",
    "Recorder",
    "bounded",
    "marker_tags",
    "split_nodeid",
]

# Set by MarkerTagger on each report (on the worker, under xdist); survive xdist's serialisation.
TAGS_ATTRIBUTE = "playdeck_tags"
BROWSER_ATTRIBUTE = "playdeck_browser"  # pytest-playwright's browser: the test's project
TITLE_ATTRIBUTE = "playdeck_title"  # the test's name without the browser's parametrize id
ARTIFACTS_ATTRIBUTE = "playdeck_artifacts"  # on teardown reports: pytest-playwright's files
UPLOAD_FOLDER = "pytest-playwright"

MAX_RUN_ERRORS = 50

# Markers that steer pytest rather than describe the test: not tags.
_MECHANICAL_MARKERS = frozenset(
    {"parametrize", "usefixtures", "filterwarnings", "skip", "skipif", "xfail"}
)

_WORKER_ID = re.compile(r"^gw(\d+)$")


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


class Recorder:
    """A pytest plugin object that keeps what the reports say; ``report()`` builds the JSON."""

    def __init__(self) -> None:
        self.started_at = time.time()
        self._tests: dict[str, RecordedTest] = {}
        self._errors: dict[str, Error] = {}
        self._workers: set[int] = set()

    @property
    def empty(self) -> bool:
        return not self._tests and not self._errors

    def pytest_sessionstart(self) -> None:
        self.started_at = time.time()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # Each xdist worker collects, and reports the same error.
        if not report.failed or report.nodeid in self._errors:
            return
        if len(self._errors) >= MAX_RUN_ERRORS:
            return
        error = _error(report)
        self._errors[report.nodeid] = Error(
            f"collecting {report.nodeid}: {error.message}", error.stack
        )
        # pytest counts a collection error as an error, and its JUnit XML writes it as a test
        # case: so does the run, under the identity the JUnit path gives it.
        if report.nodeid and report.nodeid not in self._tests:
            self._tests[report.nodeid] = _collection_error(report.nodeid, error)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        test = self._tests.get(report.nodeid)
        if test is None:
            test = self._tests[report.nodeid] = _new_test(report)
        tags = report.__dict__.get(TAGS_ATTRIBUTE)
        if isinstance(tags, list) and not test.tags:
            test.tags = [str(t) for t in tags]
        browser = report.__dict__.get(BROWSER_ATTRIBUTE)
        title = report.__dict__.get(TITLE_ATTRIBUTE)
        if isinstance(browser, str) and isinstance(title, str) and not test.project:
            test.project, test.title = browser, title
        attempt = _attempt_for(test, report)
        artifacts = report.__dict__.get(ARTIFACTS_ATTRIBUTE)
        if isinstance(artifacts, list):
            attempt.artifacts.extend(Artifact(str(path)) for path in artifacts)
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
            if len(words) == 3 and words[0] == "Captured" and words[2] in PHASES:
                if words[1] == "stdout":
                    attempt.stdout[words[2]] = bounded(content, MAX_OUTPUT_CHARS)
                elif words[1] == "stderr":
                    attempt.stderr[words[2]] = bounded(content, MAX_OUTPUT_CHARS)

    def artifacts(self) -> list[Artifact]:
        return [a for t in self._tests.values() for at in t.attempts for a in at.artifacts]

    def drop_missing_artifacts(self) -> list[str]:
        """Forget the artifacts whose file is gone (deleted since the test ran); their paths."""
        missing = []
        for test in self._tests.values():
            for attempt in test.attempts:
                kept = []
                for artifact in attempt.artifacts:
                    if os.path.isfile(artifact.path):
                        kept.append(artifact)
                    else:
                        missing.append(artifact.path)
                attempt.artifacts = kept
        return missing

    def _name_uploads(self) -> None:
        """A unique part name for each artifact: ``pytest-playwright/<test folder>/<file>``."""
        taken: set[str] = set()
        for artifact in self.artifacts():
            path = Path(artifact.path)
            name = f"{UPLOAD_FOLDER}/{path.parent.name}/{path.name}"
            n = 1
            while name in taken:
                n += 1
                name = f"{UPLOAD_FOLDER}/{n}/{path.parent.name}/{path.name}"
            taken.add(name)
            artifact.upload_name = name

    def report(self, *, root_dir: str, metadata: JSONObject) -> JSONObject:
        """The session as Playwright's JSON reporter would have written it."""
        self._name_uploads()
        files: dict[str, JSONObject] = {}
        stats = {"expected": 0, "unexpected": 0, "flaky": 0, "skipped": 0}
        for test in self._tests.values():
            spec = spec_of(test)
            stats[spec["tests"][0]["status"]] += 1
            suite = files.get(test.file)
            if suite is None:
                suite = files[test.file] = new_suite(test.file, test.file)
            for name in test.classes:
                suite = child_suite(suite, name, test.file)
            suite["specs"].append(spec)
        now = time.time()
        workers = len(self._workers) or 1
        return {
            "config": {
                "rootDir": root_dir,
                "workers": workers,
                "metadata": {**metadata, "actualWorkers": workers},
                "projects": [
                    {"name": name, "outputDir": None}
                    for name in sorted({t.project for t in self._tests.values()})
                ],
            },
            "suites": list(files.values()),
            "errors": [e.as_json() for e in self._errors.values()],
            "stats": {
                "startTime": iso_time(self.started_at),
                "duration": round((now - self.started_at) * 1000, 3),
                **stats,
            },
        }


def _new_test(report: pytest.TestReport) -> RecordedTest:
    file, classes, title = split_nodeid(report.nodeid)
    path, line, _domain = report.location
    # The reported location may be another file (a test inherited from a base class elsewhere).
    same_file = path.replace("\\", "/") == file
    return RecordedTest(
        file=file,
        classes=classes,
        title=title,
        line=line + 1 if same_file and isinstance(line, int) else None,
    )


def _collection_error(nodeid: str, error: Error) -> RecordedTest:
    """A test standing for a module (or class) that failed to collect: ``tests/test_x.py`` is
    titled ``tests.test_x``, as pytest's JUnit XML names it."""
    file, classes, title = split_nodeid(nodeid)
    if "::" not in nodeid:
        title = file.removesuffix(".py").replace("/", ".")
    phase = Phase(outcome="failed", started=time.time(), duration=0.0, error=error)
    return RecordedTest(
        file=file,
        classes=classes,
        title=title,
        line=None,
        attempts=[Attempt(retry=0, phases={COLLECT: phase})],
    )


def _attempt_for(test: RecordedTest, report: pytest.TestReport) -> Attempt:
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
    attempt = Attempt(retry=retry)
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


def _phase(report: pytest.TestReport) -> Phase:
    phase = Phase(
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


def _error(report: pytest.TestReport | pytest.CollectReport) -> Error:
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
    return Error(message, stack)


def _skip_reason(longrepr: object) -> str | None:
    # A skip's longrepr is (path, line, "Skipped: reason"); xdist sends the tuple as a list.
    if isinstance(longrepr, tuple | list) and len(longrepr) == 3:
        reason = str(longrepr[2])
    elif isinstance(longrepr, str):
        reason = longrepr
    else:
        return None
    return reason.removeprefix("Skipped: ").strip() or None
