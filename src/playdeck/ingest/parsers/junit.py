"""JUnit XML as a RunRecord: pytest (``--junitxml``), Playwright's junit reporter, and the
Maven surefire dialect (``flakyFailure``/``rerunFailure`` for earlier attempts).

What each producer puts where (from real reports in ``tests/data``):

- pytest: ``classname`` is the dotted module plus classes (``tests.test_x.TestClass``), no file
  unless ``junit_family=xunit1`` (then ``file`` and a 0-based ``line``). Setup and teardown
  failures are ``<error message="failed on setup with ...">`` (stored as pytest's ``error``);
  ``xfail`` is ``<skipped type="pytest.xfail">`` (``xfailed``); a non-strict xpass is written
  as a plain pass, so this path stores it as ``passed``. pytest-rerunfailures writes every
  rerun attempt as its own, empty, ``<testcase>`` just before the final one.
- Playwright: one ``<testsuite>`` per file and project (``name`` = file, ``hostname`` =
  project); ``name`` of a case is the describe path and title joined with U+203A; the failure
  text holds every retry after a ``Retry #N`` rule; attachments are ``[[ATTACHMENT|path]]``
  lines in ``system-out``. Flaky tests are written as plain passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import Element

from playdeck.ingest.parsers.format import Head, ReportFormat, Syntax, ZipRole
from playdeck.ingest.parsers.junit_playwright import (
    ATTACHMENT_LINE,
    PLAYWRIGHT_PROJECT_PREFIX,
    PLAYWRIGHT_SEPARATOR,
    PLAYWRIGHT_TIMEOUT,
    infer_attempts,
    is_playwright,
    place_attachments,
    split_playwright_retries,
    strip_colour_remnants,
)
from playdeck.ingest.parsers.junit_xml import (
    local,
    message_and_stack,
    output,
    parse_seconds,
    parse_xml,
    read_properties,
)
from playdeck.ingest.parsers.reading import (
    JSONObject,
    bounded_object,
    duration_ms,
    error_text,
    normalise_file,
    parse_timestamp,
    plain,
    title_tags,
)
from playdeck.ingest.records import (
    AttemptRecord,
    ReportFormatError,
    RunRecord,
    TestRecord,
    attempts_duration,
    fold_outcome,
    merge_repeats,
    test_key,
    unique_annotations,
)
from playdeck.kit.text import clean_text
from playdeck.outcomes import AttemptStatus

SOURCE_FORMAT = "junit"
_EARLIER_ATTEMPTS = ("flakyFailure", "flakyError", "rerunFailure", "rerunError")
_PYTEST_PHASE = re.compile(r"^failed on (setup|teardown) with ")
_MAX_PROPERTIES = 100
_MAX_SUITES_IN_METADATA = 100


def parse_junit_xml(data: bytes, *, fallback_started_at: datetime | None = None) -> RunRecord:
    """The run in a JUnit XML document.

    ``fallback_started_at`` is used only when no ``<testsuite>`` has a ``timestamp``.
    """
    root = parse_xml(data)
    root_tag = local(root.tag)
    if root_tag not in ("testsuites", "testsuite"):
        raise ReportFormatError(f"<{root_tag}>: expected <testsuites> or <testsuite> as the root")
    suites = [e for e in root.iter() if local(e.tag) == "testsuite"]
    pytest = root.get("name") == "pytest tests" or any(s.get("name") == "pytest" for s in suites)

    cases: list[_Case] = []
    for suite_index, suite in enumerate(suites):
        flavor = "pytest" if pytest else "playwright" if is_playwright(suite) else "generic"
        elements = [e for e in suite if local(e.tag) == "testcase"]
        for case_index, element in enumerate(elements):
            path = f"testsuite[{suite_index}]/testcase[{case_index}]"
            cases.append(_read_case(element, suite, flavor, path))

    run = RunRecord(
        source_format=SOURCE_FORMAT,
        started_at=_started_at(suites, fallback_started_at),
        duration_ms=_run_duration(root),
        tests=_fold(cases, pytest=pytest),
    )
    run.metadata["junit"] = _summary(root, suites, pytest)
    properties = read_properties(e for s in suites for e in s if local(e.tag) == "properties")
    if properties:
        run.metadata["properties"] = bounded_object(
            {p["type"]: p["description"] for p in properties[:_MAX_PROPERTIES]}, 16 * 1024
        )
    return run


@dataclass(slots=True)
class _Case:
    """One ``<testcase>`` element: one or (surefire, Playwright retries) more attempts."""

    file: str
    title_path: list[str]
    project: str
    location: str | None
    attempts: list[AttemptRecord]
    annotations: list[JSONObject] = field(default_factory=list)
    passed_silently: bool = False  # no failure, error or skipped child: a pass, or a pytest rerun
    teardown_error: bool = False
    tags: list[str] = field(default_factory=list)
    # The testcase's time when it is not the sum of its attempts' (unknown one by one).
    time_ms: int | None = None

    @property
    def key(self) -> str:
        return test_key(self.file, self.title_path, self.project)


def _read_case(element: Element, suite: Element, flavor: str, path: str) -> _Case:
    raw_name = element.get("name")
    if raw_name is None:
        raise ReportFormatError(f"{path}: missing attribute 'name'")
    name = plain(raw_name)
    classname = plain(element.get("classname") or "")
    project = ""
    location = None
    if flavor == "playwright":
        project = plain(suite.get("hostname") or "")
        prefixed = PLAYWRIGHT_PROJECT_PREFIX.match(name)
        if prefixed:  # the reporter's includeProjectInTestName option
            project, name = prefixed[1], name[prefixed.end() :]
        file = normalise_file(suite.get("name") or classname)
        title_path = [t for t in name.split(PLAYWRIGHT_SEPARATOR) if t] or [name]
    elif flavor == "pytest":
        file, classes = _pytest_file(classname, element.get("file"), name)
        title_path = [*classes, name]
        line = element.get("line")
        if file and line and line.isdigit():
            location = f"{file}:{int(line) + 1}"  # pytest writes 0-based line numbers
    else:
        file = normalise_file(element.get("file") or classname or suite.get("name") or "")
        title_path = [name]
        line = element.get("line")
        if file and line and line.isdigit():
            location = f"{file}:{line}"

    seconds = parse_seconds(element.get("time"), f"{path}/@time")
    case = _Case(file=file, title_path=title_path, project=project, location=location, attempts=[])
    case.annotations = read_properties(e for e in element if local(e.tag) == "properties")
    earlier = [
        _earlier_attempt(child, path) for child in element if local(child.tag) in _EARLIER_ATTEMPTS
    ]
    final = _final_attempt(element, case, flavor)
    final.duration_ms = duration_ms(seconds * 1000)
    final.stdout, attachments = _stdout(element, flavor)
    final.stderr = output([e.text for e in element if local(e.tag) == "system-err"])
    case.attempts = [*earlier, final]
    if flavor != "pytest":
        case.tags = title_tags(title_path)
    if flavor == "playwright":
        _playwright_attempts(case, final, earlier, attachments)
    for retry, attempt in enumerate(case.attempts):
        attempt.retry = retry
    place_attachments(case.attempts, attachments)
    return case


def _playwright_attempts(
    case: _Case, final: AttemptRecord, earlier: list[AttemptRecord], paths: list[str]
) -> None:
    """The attempts of a Playwright testcase, in order, with what is known of their durations.

    With ``includeRetries`` the earlier attempts are elements with their own ``time``: a
    flaky test's ``flakyFailure`` came before the passing attempt, a failed test's
    ``rerunFailure`` after the first attempt, whose time the testcase has. Without it, the
    testcase's time is the sum of every attempt's, which one by one are unknown.
    """
    final.stdout = strip_colour_remnants(final.stdout)
    final.stderr = strip_colour_remnants(final.stderr)
    if earlier:
        reruns = final.status is not AttemptStatus.PASSED
        case.attempts = [final, *earlier] if reruns else [*earlier, final]
        return
    retried = split_playwright_retries(final)
    # An expected failure (``test.fail()``, a ``fail`` property) leaves failure files too.
    expected_failure = any(a.get("type") == "fail" for a in case.annotations)
    case.attempts = [*retried, final] if expected_failure else infer_attempts(final, retried, paths)
    if len(case.attempts) > 1:
        case.time_ms = final.duration_ms
        for attempt in case.attempts:
            attempt.duration_ms = None


def _pytest_file(classname: str, file_attr: str | None, name: str) -> tuple[str, list[str]]:
    """Test file and class names from pytest's ``classname`` (``tests.test_x.TestClass``)."""
    parts = classname.split(".") if classname else []
    if file_attr:
        file = normalise_file(file_attr)
        module = file.removesuffix(".py").replace("/", ".")
        if classname == module:
            return file, []
        if classname.startswith(module + "."):
            return file, classname[len(module) + 1 :].split(".")
    if not parts:  # collection errors: classname "" and the module as the name
        parts = name.split(".")
        return "/".join(parts) + ".py", []
    # Classes are the trailing parts that start with a capital letter (pytest collects `Test*`).
    split = len(parts)
    while split > 1 and parts[split - 1][:1].isupper():
        split -= 1
    module_file = "/".join(parts[:split]) + ".py"
    return (normalise_file(file_attr) if file_attr else module_file), parts[split:]


def _final_attempt(element: Element, case: _Case, flavor: str) -> AttemptRecord:
    outcomes = [e for e in element if local(e.tag) in ("failure", "error")]
    skipped = next((e for e in element if local(e.tag) == "skipped"), None)
    attempt = AttemptRecord(retry=0, status=AttemptStatus.PASSED)
    if outcomes:
        first = outcomes[0]
        message, stack = message_and_stack(first)
        attempt.status = AttemptStatus.FAILED
        if local(first.tag) == "error":
            phase_match = _PYTEST_PHASE.match(message or "")
            phase = phase_match[1] if phase_match else None
            if phase:
                attempt.extra["phase"] = phase
                case.teardown_error = phase == "teardown"
            # An error is not an assertion failure: say so where people read the message.
            message = f"[{phase} error] {message}" if phase else f"[error] {message or ''}"
            if flavor == "pytest":  # pytest's own word for it (a call's exception is a failure)
                attempt.status = AttemptStatus.ERROR
        elif flavor == "playwright" and PLAYWRIGHT_TIMEOUT.match(message or ""):
            attempt.status = AttemptStatus.TIMEDOUT
        if first.get("type"):
            attempt.extra["type"] = first.get("type")
        attempt.error_message = error_text(message)
        attempt.error_stack = error_text(stack)
        if len(outcomes) > 1:  # pytest: a failed call and then a teardown error, say
            attempt.extra["more_errors"] = [
                error_text(message_and_stack(e)[0]) for e in outcomes[1:]
            ]
    elif skipped is not None:
        attempt.status = AttemptStatus.SKIPPED
        reason = clean_text(skipped.get("message"), limit=2000) or None
        kind = "xfail" if skipped.get("type") == "pytest.xfail" else "skip"
        if kind == "xfail":  # failed as expected, or not run: pytest counts it as xfailed
            attempt.status = AttemptStatus.XFAILED
        if kind == "xfail" or reason:
            case.annotations.append({"type": kind, "description": reason})
    else:
        case.passed_silently = True
    return attempt


def _earlier_attempt(element: Element, path: str) -> AttemptRecord:
    """A surefire ``flakyFailure``/``rerunFailure``: an attempt that failed before the last."""
    message, stack = message_and_stack(element)
    stack_trace = next((e for e in element if local(e.tag) == "stackTrace"), None)
    if stack_trace is not None and stack_trace.text:
        stack = stack_trace.text
    attempt = AttemptRecord(
        retry=0,
        status=AttemptStatus.FAILED,
        duration_ms=duration_ms(parse_seconds(element.get("time"), f"{path}/@time") * 1000),
        error_message=error_text(message),
        error_stack=error_text(stack),
        stdout=output([e.text for e in element if local(e.tag) == "system-out"]),
        stderr=output([e.text for e in element if local(e.tag) == "system-err"]),
    )
    if element.get("type"):
        attempt.extra["type"] = element.get("type")
    return attempt


def _stdout(element: Element, flavor: str) -> tuple[str | None, list[str]]:
    texts = [e.text for e in element if local(e.tag) == "system-out"]
    attachments: list[str] = []
    if flavor == "playwright":
        stripped: list[str | None] = []
        for text in texts:
            if text:
                attachments.extend(m[1] for m in ATTACHMENT_LINE.finditer(text))
                stripped.append(ATTACHMENT_LINE.sub("", text))
        texts = stripped
    return output(texts), attachments


def _fold(cases: list[_Case], *, pytest: bool) -> list[TestRecord]:
    """Cases into tests; several cases with one identity are attempts or repeats of one test.

    pytest-rerunfailures writes a rerun attempt as an empty ``<testcase>`` (it looks passed,
    but a rerun only follows a failure). Old pytest versions wrote a pass followed by a
    teardown error as two cases of one attempt. When every repeated identity in the report
    ends in a teardown error, we cannot tell these apart by shape, and read them the old way.
    """
    groups: dict[str, list[_Case]] = {}
    for case in cases:
        groups.setdefault(case.key, []).append(case)
    reruns = any(len(g) > 1 and not g[-1].teardown_error for g in groups.values())

    tests: list[TestRecord] = []
    for group in groups.values():
        if len(group) == 1 or not pytest:
            tests.extend(_test(case, case.attempts) for case in group)
            continue
        if not reruns and len(group) == 2 and group[0].passed_silently:
            last = group[-1]
            last.attempts[-1].duration_ms = (
                last.attempts[-1].duration_ms or 0
            ) + attempts_duration(group[0].attempts)
            tests.append(_test(last, last.attempts))
            continue
        attempts: list[AttemptRecord] = []
        for case in group[:-1]:
            if case.passed_silently:
                case.attempts[-1].status = AttemptStatus.FAILED
                case.attempts[-1].extra["rerun"] = True
            attempts.extend(case.attempts)
        attempts.extend(group[-1].attempts)
        for retry, attempt in enumerate(attempts):
            attempt.retry = retry
        last = group[-1]
        last.annotations = [a for c in group for a in c.annotations]
        tests.append(_test(last, attempts))
    return merge_repeats(tests)


def _test(case: _Case, attempts: list[AttemptRecord]) -> TestRecord:
    failed = [a for a in attempts if a.error_message or a.error_stack]
    return TestRecord(
        file=case.file,
        title_path=case.title_path,
        outcome=fold_outcome([a.status for a in attempts]),
        browser_project=case.project,
        duration_ms=attempts_duration(attempts) if case.time_ms is None else case.time_ms,
        location=case.location,
        tags=case.tags,
        annotations=unique_annotations(case.annotations),
        error_message=failed[-1].error_message if failed else None,
        error_stack=failed[-1].error_stack if failed else None,
        attempts=attempts,
    )


def _started_at(suites: list[Element], fallback: datetime | None) -> datetime:
    stamps = [
        parse_timestamp(stamp, f"testsuite[{i}]/@timestamp")
        for i, suite in enumerate(suites)
        if (stamp := suite.get("timestamp"))
    ]
    started = min(stamps, default=fallback)
    if started is None:
        raise ReportFormatError("testsuite: no 'timestamp' attribute says when the run started")
    return started


def _run_duration(root: Element) -> int:
    if local(root.tag) == "testsuites" and root.get("time"):
        return duration_ms(parse_seconds(root.get("time"), "testsuites/@time") * 1000)
    top = (
        [root]
        if local(root.tag) == "testsuite"
        else [s for s in root if local(s.tag) == "testsuite"]
    )
    return duration_ms(sum(parse_seconds(s.get("time"), "testsuite/@time") for s in top) * 1000)


def _summary(root: Element, suites: list[Element], pytest: bool) -> JSONObject:
    keys = ("name", "hostname", "tests", "failures", "errors", "skipped", "time")
    return {
        "name": root.get("name"),
        "producer": "pytest" if pytest else None,
        "suites": [
            {k: s.get(k) for k in keys if s.get(k) is not None}
            for s in suites[:_MAX_SUITES_IN_METADATA]
        ],
    }


def sniff(head: Head) -> bool:
    return head.xml_root in ("testsuites", "testsuite")


FORMAT = ReportFormat(
    name=SOURCE_FORMAT,
    label="JUnit XML",
    syntax=Syntax.XML,
    sniff=sniff,
    parse=lambda data, received_at: parse_junit_xml(data, fallback_started_at=received_at),
    in_zip=ZipRole.SHARD,
    extensions=(".xml",),
)
