"""JUnit XML as a RunRecord: pytest (``--junitxml``), Playwright's junit reporter, and the
Maven surefire dialect (``flakyFailure``/``rerunFailure`` for earlier attempts).

What each producer puts where (from real reports in ``tests/data``):

- pytest: ``classname`` is the dotted module plus classes (``tests.test_x.TestClass``), no file
  unless ``junit_family=xunit1`` (then ``file`` and a 0-based ``line``). Setup and teardown
  failures are ``<error message="failed on setup with ...">``; ``xfail`` is
  ``<skipped type="pytest.xfail">``. pytest-rerunfailures writes every rerun attempt as its own,
  empty, ``<testcase>`` just before the final one.
- Playwright: one ``<testsuite>`` per file and project (``name`` = file, ``hostname`` =
  project); ``name`` of a case is the describe path and title joined with U+203A; the failure
  text holds every retry after a ``Retry #N`` rule; attachments are ``[[ATTACHMENT|path]]``
  lines in ``system-out``. Flaky tests are written as plain passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import Element, ParseError

import defusedxml  # type: ignore[import-untyped]
import defusedxml.ElementTree  # type: ignore[import-untyped]

from playdeck.ingest.parsers.reading import (
    JSONObject,
    bounded_object,
    duration_ms,
    error_text,
    normalise_file,
    parse_timestamp,
    plain,
)
from playdeck.ingest.records import (
    AttachmentRecord,
    AttemptRecord,
    ReportFormatError,
    RunRecord,
    TestRecord,
    fold_outcome,
    merge_repeats,
    test_key,
    unique_annotations,
)
from playdeck.kit.text import clean_text
from playdeck.models.attempt import MAX_OUTPUT_CHARS

SOURCE_FORMAT = "junit"
_EARLIER_ATTEMPTS = ("flakyFailure", "flakyError", "rerunFailure", "rerunError")
_PLAYWRIGHT_FILE = re.compile(r"\.(?:spec|test)?\.?[cm]?[jt]sx?$")
_PLAYWRIGHT_SEPARATOR = " \u203a "
_PLAYWRIGHT_PROJECT_PREFIX = re.compile(r"^\[([^\]]*)\] \u203a ")
_PLAYWRIGHT_RETRY = re.compile(r"^[ \t]*Retry #(\d+) \u2500+[ \t]*$", re.MULTILINE)
_PLAYWRIGHT_TIMEOUT = re.compile(r"^Test timeout of \d+ms exceeded")
_ATTACHMENT_LINE = re.compile(r"^[ \t]*\[\[ATTACHMENT\|(.+?)\]\][ \t]*$\n?", re.MULTILINE)
_RETRY_DIR = re.compile(r"-retry(\d+)/")
_PYTEST_PHASE = re.compile(r"^failed on (setup|teardown) with ")
_PYTEST_SECTION = re.compile(r"^(-+ Captured (?:Log|Out|Err) -+)$", re.MULTILINE)
_MAX_PROPERTIES = 100
_MAX_SUITES_IN_METADATA = 100
# Attachment file names Playwright writes, to the names its JSON report gives them.
_ATTACHMENT_NAMES = {"trace.zip": "trace", "error-context.md": "error-context"}
_CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webm": "video/webm",
    ".zip": "application/zip",
    ".md": "text/markdown",
    ".txt": "text/plain",
    ".json": "application/json",
    ".html": "text/html",
}


def parse_junit_xml(data: bytes, *, fallback_started_at: datetime | None = None) -> RunRecord:
    """The run in a JUnit XML document.

    ``fallback_started_at`` is used only when no ``<testsuite>`` has a ``timestamp``.
    """
    root = _parse_xml(data)
    root_tag = _local(root.tag)
    if root_tag not in ("testsuites", "testsuite"):
        raise ReportFormatError(f"<{root_tag}>: expected <testsuites> or <testsuite> as the root")
    suites = [e for e in root.iter() if _local(e.tag) == "testsuite"]
    pytest = root.get("name") == "pytest tests" or any(s.get("name") == "pytest" for s in suites)

    cases: list[_Case] = []
    for suite_index, suite in enumerate(suites):
        flavor = "pytest" if pytest else "playwright" if _is_playwright(suite) else "generic"
        elements = [e for e in suite if _local(e.tag) == "testcase"]
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
    properties = _properties(e for s in suites for e in s if _local(e.tag) == "properties")
    if properties:
        run.metadata["properties"] = bounded_object(
            {p["type"]: p["description"] for p in properties[:_MAX_PROPERTIES]}, 16 * 1024
        )
    return run


MAX_XML_DEPTH = 64


def _parse_xml(data: bytes) -> Element:
    try:
        root: Element = defusedxml.ElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden:
        raise ReportFormatError(
            "XML entities are not allowed: the document has a document type declaration"
        ) from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden):
        raise ReportFormatError("XML entities are not allowed") from None
    except ParseError as error:
        line, column = error.position
        raise ReportFormatError(
            f"malformed XML at line {line}, column {column}: {str(error).split(':')[0]}"
        ) from None
    _check_depth(root)
    return root


def _check_depth(root: Element) -> None:
    """Refuse elements nested deeper than ``MAX_XML_DEPTH`` (JUnit needs four or five levels;
    a 100,000-deep document only costs memory and recursion)."""
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_XML_DEPTH:
            raise ReportFormatError(f"XML nested deeper than {MAX_XML_DEPTH} elements")
        stack.extend((child, depth + 1) for child in element)


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _is_playwright(suite: Element) -> bool:
    name = suite.get("name") or ""
    cases = [e for e in suite if _local(e.tag) == "testcase"]
    return (
        bool(_PLAYWRIGHT_FILE.search(name))
        and suite.get("hostname") is not None
        and all(c.get("classname") == name for c in cases)
    )


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
        prefixed = _PLAYWRIGHT_PROJECT_PREFIX.match(name)
        if prefixed:  # the reporter's includeProjectInTestName option
            project, name = prefixed[1], name[prefixed.end() :]
        file = normalise_file(suite.get("name") or classname)
        title_path = [t for t in name.split(_PLAYWRIGHT_SEPARATOR) if t] or [name]
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

    seconds = _seconds(element.get("time"), f"{path}/@time")
    case = _Case(file=file, title_path=title_path, project=project, location=location, attempts=[])
    case.annotations = _properties(e for e in element if _local(e.tag) == "properties")
    earlier = [
        _earlier_attempt(child, path) for child in element if _local(child.tag) in _EARLIER_ATTEMPTS
    ]
    final = _final_attempt(element, case, flavor)
    final.duration_ms = duration_ms(seconds * 1000)
    final.stdout, attachments = _stdout(element, flavor)
    final.stderr = _output([e.text for e in element if _local(e.tag) == "system-err"])
    if flavor == "playwright":
        earlier.extend(_split_playwright_retries(final))
    case.attempts = [*earlier, final]
    for retry, attempt in enumerate(case.attempts):
        attempt.retry = retry
    _place_attachments(case.attempts, attachments)
    return case


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
    outcomes = [e for e in element if _local(e.tag) in ("failure", "error")]
    skipped = next((e for e in element if _local(e.tag) == "skipped"), None)
    attempt = AttemptRecord(retry=0, status="passed")
    if outcomes:
        first = outcomes[0]
        message, stack = _message_and_stack(first)
        attempt.status = "failed"
        if _local(first.tag) == "error":
            phase_match = _PYTEST_PHASE.match(message or "")
            phase = phase_match[1] if phase_match else None
            if phase:
                attempt.extra["phase"] = phase
                case.teardown_error = phase == "teardown"
            # An error is not an assertion failure: say so where people read the message.
            message = f"[{phase} error] {message}" if phase else f"[error] {message or ''}"
        elif flavor == "playwright" and _PLAYWRIGHT_TIMEOUT.match(message or ""):
            attempt.status = "timedout"
        if first.get("type"):
            attempt.extra["type"] = first.get("type")
        attempt.error_message = error_text(message)
        attempt.error_stack = error_text(stack)
        if len(outcomes) > 1:  # pytest: a failed call and then a teardown error, say
            attempt.extra["more_errors"] = [
                error_text(_message_and_stack(e)[0]) for e in outcomes[1:]
            ]
    elif skipped is not None:
        attempt.status = "skipped"
        reason = clean_text(skipped.get("message"), limit=2000) or None
        kind = "xfail" if skipped.get("type") == "pytest.xfail" else "skip"
        if kind == "xfail" or reason:
            case.annotations.append({"type": kind, "description": reason})
    else:
        case.passed_silently = True
    return attempt


def _earlier_attempt(element: Element, path: str) -> AttemptRecord:
    """A surefire ``flakyFailure``/``rerunFailure``: an attempt that failed before the last."""
    message, stack = _message_and_stack(element)
    stack_trace = next((e for e in element if _local(e.tag) == "stackTrace"), None)
    if stack_trace is not None and stack_trace.text:
        stack = stack_trace.text
    attempt = AttemptRecord(
        retry=0,
        status="failed",
        duration_ms=duration_ms(_seconds(element.get("time"), f"{path}/@time") * 1000),
        error_message=error_text(message),
        error_stack=error_text(stack),
        stdout=_output([e.text for e in element if _local(e.tag) == "system-out"]),
        stderr=_output([e.text for e in element if _local(e.tag) == "system-err"]),
    )
    if element.get("type"):
        attempt.extra["type"] = element.get("type")
    return attempt


def _message_and_stack(element: Element) -> tuple[str | None, str | None]:
    text = (element.text or "").strip("\n") or None
    message = element.get("message")
    if not message and text:
        message = text.strip().split("\n", 1)[0]
    return message, text


def _split_playwright_retries(final: AttemptRecord) -> list[AttemptRecord]:
    """Earlier attempts hidden in a Playwright failure text (``Retry #1 ────``), oldest first.

    The final attempt keeps the last section; earlier ones get the sections before it. Their
    durations are unknown: the testcase ``time`` is the sum of all of them.
    """
    stack = final.error_stack
    if not stack:
        return []
    sections = _PLAYWRIGHT_RETRY.split(stack)
    if len(sections) < 3:
        return []
    earlier = sections[0:-1:2]  # split() puts the captured retry numbers in between
    final.error_stack = error_text(sections[-1].strip("\n"))
    return [
        AttemptRecord(
            retry=0,
            status=final.status,
            error_message=final.error_message,
            error_stack=error_text(text.strip("\n")),
        )
        for text in earlier
    ]


def _stdout(element: Element, flavor: str) -> tuple[str | None, list[str]]:
    texts = [e.text for e in element if _local(e.tag) == "system-out"]
    attachments: list[str] = []
    if flavor == "playwright":
        stripped: list[str | None] = []
        for text in texts:
            if text:
                attachments.extend(m[1] for m in _ATTACHMENT_LINE.finditer(text))
                stripped.append(_ATTACHMENT_LINE.sub("", text))
        texts = stripped
    return _output(texts), attachments


def _place_attachments(attempts: list[AttemptRecord], paths: list[str]) -> None:
    """Attachments to the attempt that wrote them: Playwright's ``-retryN`` output folders."""
    for raw in paths:
        path = raw.strip().replace("\\", "/")
        retry_dir = _RETRY_DIR.search(path)
        index = int(retry_dir[1]) if retry_dir else 0
        target = attempts[index] if index < len(attempts) else attempts[-1]
        file_name = path.rsplit("/", 1)[-1]
        extension = "." + file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
        content_type = _CONTENT_TYPES.get(extension, "application/octet-stream")
        name = _ATTACHMENT_NAMES.get(file_name)
        if name is None and content_type.startswith("image/"):
            name = "screenshot"
        elif name is None and content_type.startswith("video/"):
            name = "video"
        target.attachments.append(
            AttachmentRecord(name=name or file_name, content_type=content_type, path=path)
        )


def _output(texts: list[str | None]) -> str | None:
    parts = [_drop_empty_sections(t) for t in texts if t]
    text = "\n".join(p for p in parts if p)
    return clean_text(text, limit=MAX_OUTPUT_CHARS) if text else None


def _drop_empty_sections(text: str) -> str:
    """Text without pytest's ``--- Captured Out ---`` rules around empty captures.

    pytest's ``junit_logging`` writes a rule per capture kind even when nothing was captured.
    """
    pieces = _PYTEST_SECTION.split(text)  # [before, rule, body, rule, body, ...]
    kept = [pieces[0].strip("\n")] if pieces[0].strip() else []
    for rule, body in zip(pieces[1::2], pieces[2::2], strict=True):
        if body.strip():
            kept.append(f"{rule}\n{body.strip(chr(10))}")
    return "\n".join(kept)


def _properties(groups: Iterable[Element]) -> list[JSONObject]:
    annotations: list[JSONObject] = []
    for group in groups:
        for prop in group:
            if _local(prop.tag) != "property" or not prop.get("name"):
                continue
            value = prop.get("value")
            if value is None:
                value = prop.text
            annotations.append(
                {"type": prop.get("name"), "description": clean_text(value, limit=2000) or None}
            )
    return annotations


def _seconds(value: str | None, path: str) -> float:
    if value is None or not value.strip():
        return 0.0
    try:
        # Some surefire versions format thousands with a comma ("1,234.5").
        return max(0.0, float(value.replace(",", "")))
    except ValueError:
        raise ReportFormatError(f"{path}: expected a number of seconds") from None


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
            last.attempts[-1].duration_ms += sum(a.duration_ms for a in group[0].attempts)
            tests.append(_test(last, last.attempts))
            continue
        attempts: list[AttemptRecord] = []
        for case in group[:-1]:
            if case.passed_silently:
                case.attempts[-1].status = "failed"
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
        duration_ms=sum(a.duration_ms for a in attempts),
        location=case.location,
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
    if _local(root.tag) == "testsuites" and root.get("time"):
        return duration_ms(_seconds(root.get("time"), "testsuites/@time") * 1000)
    top = (
        [root]
        if _local(root.tag) == "testsuite"
        else [s for s in root if _local(s.tag) == "testsuite"]
    )
    return duration_ms(sum(_seconds(s.get("time"), "testsuite/@time") for s in top) * 1000)


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
