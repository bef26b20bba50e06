"""The PhenX reporter's format (``/api/test-runs/submit`` and ``/upload``).

The reporter (``@phenx/playwright-dashboard-reporter``) sends one element per ATTEMPT, with the
bare test title and a ``file:line:col`` location (relative to the working directory), and nothing
that names the Playwright project or the describe blocks. We fold the attempts back into tests:
same file, title and location, chained by ``retries``; several chains at one location are the
tests of several projects. What the format cannot tell is listed in ``docs/decisions.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from playdeck.ingest.parsers.format import Head, ReportFormat, Syntax, decoded
from playdeck.ingest.parsers.reading import (
    MAX_STEPS,
    JSONObject,
    as_list,
    as_object,
    as_str,
    at,
    attempt_status,
    bounded_list,
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
    opt_str,
    parse_timestamp,
    plain,
    req_str,
    required,
    step_record,
    title_tags,
)
from playdeck.ingest.records import (
    AttemptRecord,
    RunRecord,
    TestRecord,
    attempts_duration,
    fold_outcome,
    merge_repeats,
)
from playdeck.outcomes import FAILING_STATUSES, RunStatus

SOURCE_FORMAT = "phenx"
_RUN_STATUSES = frozenset(RunStatus)
_MAX_NETWORK_REQUESTS = 500
_MAX_EXTRA_BYTES = 64 * 1024
_MAX_TAGS = 50
# "file:line:col"; the file may itself hold a colon (a Windows drive letter: "C:\x\a.spec.ts").
_LOCATION = re.compile(r"^(?P<file>.*?)(?::(?P<line>\d+))?(?::(?P<column>\d+))?$")


def parse_phenx_submit(data: object) -> RunRecord:
    """The JSON body of ``POST /api/test-runs/submit``."""
    body = as_object(data, "")
    project_name = req_str(body, "projectName", "").strip()
    if not project_name:
        raise fail("projectName", "must not be empty")
    return _read_run(body, "", body.get("testCases"), "testCases", project_name)


def parse_phenx_upload(
    test_run: object, test_cases: object, *, project_name: str | None = None
) -> RunRecord:
    """The ``testRun`` and ``testCases`` JSON parts of ``POST /api/test-runs/upload``.

    ``project_name`` is the form's separate ``projectName`` part.
    """
    run = as_object(test_run, "testRun")
    return _read_run(run, "testRun", test_cases, "testCases", project_name)


def _read_run(
    run: JSONObject,
    path: str,
    test_cases: object,
    cases_path: str,
    project_name: str | None,
) -> RunRecord:
    status = as_str(required(run, "status", path), at(path, "status")).lower()
    if status not in _RUN_STATUSES:
        raise fail(at(path, "status"), f"expected one of {', '.join(RunStatus)}")
    metadata = run.get("metadata")
    metadata = {} if metadata is None else as_object(metadata, at(path, "metadata"))
    scm = loose_object(metadata, "scm")
    ci = loose_object(metadata, "ci")
    cases = [] if test_cases is None else as_list(test_cases, cases_path)
    layout = _Layout.of(metadata)
    record = RunRecord(
        source_format=SOURCE_FORMAT,
        started_at=parse_timestamp(required(run, "startTime", path), at(path, "startTime")),
        duration_ms=duration_ms(opt_number(run, "duration", path)),
        status=RunStatus(status),
        project_name=project_name,
        project_description=loose_str(run, "projectDescription")
        or loose_str(metadata, "projectDescription"),
        branch=loose_str(scm, "branch"),
        commit_sha=loose_str(scm, "commit"),
        commit_message=loose_str(scm, "commitMessage"),
        author=loose_str(scm, "author"),
        ci_provider=loose_str(ci, "provider"),
        # The reporter fills different keys per CI system (Jenkins/CircleCI: buildNumber,
        # GitHub Actions: runNumber, GitLab: pipelineId, Azure: buildNumber/buildId).
        ci_build_number=loose_str(ci, "buildNumber")
        or loose_str(ci, "runNumber")
        or loose_str(ci, "pipelineId")
        or loose_str(ci, "buildId"),
        ci_build_url=loose_str(ci, "buildUrl") or loose_str(ci, "pipelineUrl"),
        tags=_run_tags(metadata.get("tags")),
        metadata=bounded_object(metadata),
        tests=_fold_tests(
            [_read_case(c, i, at(cases_path, i), layout) for i, c in enumerate(cases)], layout
        ),
    )
    # The reporter counts attempts, not tests: kept for reference, never used as our totals.
    totals = {
        k: run[k]
        for k in ("totalTests", "passedTests", "failedTests", "skippedTests")
        if isinstance(run.get(k), int)
    }
    if totals:
        record.metadata["reported_totals"] = totals
    return record


def _run_tags(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    tags = [t.strip() for t in value if isinstance(t, str) and t.strip()]
    return list(dict.fromkeys(tags))[:_MAX_TAGS]


@dataclass(frozen=True, slots=True)
class _Layout:
    """What the run's metadata says of the Playwright config, when the reporter sends it
    (``metadata.htmlReport.projects``: each project's ``name`` and ``testDir``)."""

    projects: tuple[str, ...] = ()
    test_dir: str = ""  # relative to the working directory, as the locations are

    @classmethod
    def of(cls, metadata: JSONObject) -> _Layout:
        raw = loose_object(metadata, "htmlReport").get("projects")
        projects = [p for p in raw if isinstance(p, dict)] if isinstance(raw, list) else []
        names = tuple(plain(n) for p in projects if isinstance(n := p.get("name"), str))
        test_dirs = {
            normalise_file(d).rstrip("/")
            for p in projects
            if isinstance(d := p.get("testDir"), str)
        }
        # Only one testDir shared by every project makes one rule for every file.
        test_dir = test_dirs.pop() if len(test_dirs) == 1 else ""
        if test_dir.startswith(("/", "../")) or test_dir == ".":
            test_dir = ""
        return cls(projects=names, test_dir=test_dir)

    def file(self, location_file: str) -> str:
        """The test file relative to the Playwright testDir, as the other clients name it."""
        file = normalise_file(location_file)
        prefix = f"{self.test_dir}/" if self.test_dir else ""
        return file[len(prefix) :] if prefix and file.startswith(prefix) else file


@dataclass(slots=True)
class _Case:
    """One element of ``testCases``: one attempt of one test."""

    title: str
    file: str
    line: int
    column: int
    attempt: AttemptRecord


def _read_case(value: object, index: int, path: str, layout: _Layout) -> _Case:
    case = as_object(value, path)
    title = plain(req_str(case, "title", path))
    file, line, column = _split_location(opt_str(case, "location", path) or "")
    file = layout.file(file)
    attempt = AttemptRecord(
        retry=opt_int(case, "retries", path),
        status=attempt_status(required(case, "status", path), at(path, "status")),
        duration_ms=duration_ms(opt_number(case, "duration", path)),
        error_message=error_text(opt_str(case, "error", path)),
        source_index=index,  # trace_<N> upload parts name the attempt by this index
    )
    if attempt.retry < 0:
        raise fail(at(path, "retries"), "must not be negative")
    if "startTime" in case and case["startTime"] is not None:
        attempt.started_at = parse_timestamp(case["startTime"], at(path, "startTime"))
    attempt.steps, dropped = _steps(opt_list(case, "steps", path), at(path, "steps"))
    if dropped:
        attempt.extra["steps_dropped"] = dropped
    _read_performance(case, path, attempt.extra)
    return _Case(
        title=title,
        file=file,
        line=line,
        column=column,
        attempt=attempt,
    )


def _split_location(location: str) -> tuple[str, int, int]:
    match = _LOCATION.match(location)
    if match is None:  # cannot happen: the pattern accepts any string
        return normalise_file(location), 0, 0
    return normalise_file(match["file"]), int(match["line"] or 0), int(match["column"] or 0)


def _steps(values: list[Any], path: str) -> tuple[list[JSONObject], int]:
    steps: list[JSONObject] = []
    for index, value in enumerate(values[:MAX_STEPS]):
        step_path = at(path, index)
        step = as_object(value, step_path)
        steps.append(
            step_record(
                opt_str(step, "title", step_path) or "",
                opt_number(step, "duration", step_path),
                opt_str(step, "category", step_path),
            )
        )
    return steps, max(0, len(values) - MAX_STEPS)


def _read_performance(case: JSONObject, path: str, extra: JSONObject) -> None:
    slowest = opt_str(case, "slowestStep", path)
    if slowest is not None:
        extra["slowest_step"] = {
            "title": slowest,
            "duration": duration_ms(opt_number(case, "slowestStepDuration", path)),
        }
    requests = opt_list(case, "networkRequests", path)
    if requests:
        extra["network_requests"] = bounded_list(
            requests, max_items=_MAX_NETWORK_REQUESTS, max_bytes=_MAX_EXTRA_BYTES
        )
        if len(requests) > len(extra["network_requests"]):
            extra["network_requests_dropped"] = len(requests) - len(extra["network_requests"])
    vitals = case.get("webVitals")
    if vitals is not None:
        vitals = bounded_object(as_object(vitals, at(path, "webVitals")), _MAX_EXTRA_BYTES)
        if any(v for v in vitals.values()):
            extra["web_vitals"] = vitals


def _fold_tests(cases: list[_Case], layout: _Layout) -> list[TestRecord]:
    """Attempts back into tests.

    Attempts of one test share file, title and location, and come in order: each
    ``retries: 0`` starts a test; a retry joins the earliest test still waiting for exactly that
    retry (its previous attempt failed). Several tests at one location are the runs of several
    Playwright projects (or, with one project, ``--repeat-each`` repeats). This format does not
    name projects: with one project in the metadata, its name is every test's; with several,
    the tests at a location are told apart by the order of their first attempt
    (``project 1``, ``project 2``, ...), each with its own attempts, retries and duration.
    """
    locations: dict[tuple[str, str], set[tuple[int, int]]] = {}
    for case in cases:
        locations.setdefault((case.file, case.title), set()).add((case.line, case.column))

    chains: dict[tuple[str, str, int, int], list[list[_Case]]] = {}
    for case in cases:
        open_chains = chains.setdefault((case.file, case.title, case.line, case.column), [])
        retry = case.attempt.retry
        target = next(
            (
                chain
                for chain in open_chains
                if retry > 0
                and chain[-1].attempt.retry == retry - 1
                and chain[-1].attempt.status in FAILING_STATUSES
            ),
            None,
        )
        if target is None:
            open_chains.append([case])
        else:
            target.append(case)

    single = layout.projects[0] if len(layout.projects) == 1 else ""
    tests: list[TestRecord] = []
    for (file, title, line, column), group in chains.items():
        # Same title at several places in one file: tests in different describe blocks,
        # which this format does not name. The line tells them apart.
        ambiguous = len(locations[(file, title)]) > 1
        title_path = [f"line {line}", title] if ambiguous else [title]
        # With one project, several chains are its repeats (merged below, as Playwright's JSON
        # report's are); otherwise each chain is a project's test.
        split = len(group) > 1 and len(layout.projects) != 1
        for number, chain in enumerate(group, start=1):
            project = f"project {number}" if split else single
            tests.append(_test(chain, file, title_path, line, column, project))
    return merge_repeats(tests)


def _test(
    chain: list[_Case], file: str, title_path: list[str], line: int, column: int, project: str
) -> TestRecord:
    attempts = sorted((c.attempt for c in chain), key=lambda a: a.retry)
    failed = [a for a in attempts if a.status in FAILING_STATUSES]
    return TestRecord(
        file=file,
        title_path=title_path,
        outcome=fold_outcome([a.status for a in attempts]),
        browser_project=project,
        duration_ms=attempts_duration(attempts),
        location=f"{file}:{line}:{column}" if line else (file or None),
        tags=title_tags(title_path),
        error_message=failed[-1].error_message if failed else None,
        attempts=attempts,
    )


# Keys only the PhenX reporter's body has at its top level; it writes ``projectName`` first.
_SNIFF_KEYS = frozenset({"projectName", "testCases", "testRun", "totalTests", "startTime"})


def sniff(head: Head) -> bool:
    return bool(head.json_keys_seen() & _SNIFF_KEYS)


FORMAT = ReportFormat(
    name="phenx-json",
    label="the PhenX reporter's JSON body (projectName, testCases)",
    syntax=Syntax.JSON,
    sniff=sniff,
    parse=lambda document, _received_at: parse_phenx_submit(decoded(document)),
    extensions=(".json",),
)
