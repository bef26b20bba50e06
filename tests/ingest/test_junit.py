"""junit against real reports in tests/data: pytest 9 (--junitxml, with and without
pytest-rerunfailures) and Playwright 1.65's junit reporter, plus hostile and hand-made XML."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from playdeck.ingest.parsers.junit import parse_junit_xml
from playdeck.ingest.records import ReportFormatError, RunRecord, TestRecord

DATA = Path(__file__).parent.parent / "data"


def load(name: str) -> RunRecord:
    return parse_junit_xml((DATA / name).read_bytes())


@pytest.fixture(scope="module")
def pytest_run() -> RunRecord:
    return load("junit/pytest.xml")


@pytest.fixture(scope="module")
def reruns_run() -> RunRecord:
    return load("junit/pytest-reruns.xml")


@pytest.fixture(scope="module")
def playwright_run() -> RunRecord:
    return load("playwright/junit.xml")


def find(run: RunRecord, *title_path: str, project: str = "") -> TestRecord:
    matches = [
        t for t in run.tests if t.title_path == list(title_path) and t.browser_project == project
    ]
    assert len(matches) == 1, [t.title_path for t in run.tests]
    return matches[0]


# --------------------------------------------------------------- pytest


def test_pytest_report_has_one_test_per_item(pytest_run: RunRecord) -> None:
    assert pytest_run.source_format == "junit"
    assert len(pytest_run.tests) == 14
    # xpass (not strict) is a pass, xfail a skip; setup and teardown errors are failures.
    assert Counter(t.outcome for t in pytest_run.tests) == {
        "passed": 6,
        "failed": 3,
        "error": 2,
        "skipped": 2,
        "xfailed": 1,
    }
    assert pytest_run.started_at == datetime(2026, 11, 23, 6, 37, 53, 806663, tzinfo=UTC)
    assert pytest_run.duration_ms == 55
    assert pytest_run.metadata["junit"]["producer"] == "pytest"


def test_pytest_classname_gives_file_and_class(pytest_run: RunRecord) -> None:
    test = find(pytest_run, "TestGroup", "test_in_class_fails")
    assert test.file == "test_outcomes.py"
    assert test.outcome == "failed"
    assert test.error_message == (
        "assert [1, 2, 3] == [1, 2, 4]\n  \n  At index 2 diff: 3 != 4\n  Use -v to get more diff"
    )
    assert (
        test.error_stack is not None and "test_outcomes.py:79: AssertionError" in test.error_stack
    )
    assert find(pytest_run, "test_passes").file == "test_outcomes.py"


def test_pytest_setup_error_is_an_error_in_setup(pytest_run: RunRecord) -> None:
    test = find(pytest_run, "test_error_in_fixture_setup")
    assert test.outcome == "error"
    assert test.attempts[0].extra["phase"] == "setup"
    assert test.error_message == (
        '[setup error] failed on setup with "RuntimeError: fixture setup exploded"'
    )


def test_pytest_teardown_error_is_an_error_in_teardown(pytest_run: RunRecord) -> None:
    test = find(pytest_run, "test_error_in_fixture_teardown")
    assert test.outcome == "error"
    assert test.attempts[0].extra["phase"] == "teardown"


def test_pytest_xfail_is_xfailed_with_an_xfail_annotation(pytest_run: RunRecord) -> None:
    test = find(pytest_run, "test_xfail")
    assert test.outcome == "xfailed"
    assert test.annotations == [{"type": "xfail", "description": "known bug PD-1"}]
    # pytest writes a non-strict xpass as a plain pass: JUnit cannot tell it from one.
    assert find(pytest_run, "test_xpass").outcome == "passed"


def test_pytest_skips_keep_their_reason(pytest_run: RunRecord) -> None:
    test = find(pytest_run, "test_skipped")
    assert test.outcome == "skipped"
    assert test.annotations == [{"type": "skip", "description": "not implemented on this platform"}]


def test_pytest_parametrized_ids_are_separate_tests(pytest_run: RunRecord) -> None:
    outcomes = {
        t.title_path[-1]: t.outcome
        for t in pytest_run.tests
        if t.title_path[-1].startswith("test_parametrized_double[")
    }
    assert outcomes == {
        "test_parametrized_double[one]": "passed",
        "test_parametrized_double[two]": "passed",
        "test_parametrized_double[three]": "failed",
    }


def test_pytest_output_without_empty_capture_sections(pytest_run: RunRecord) -> None:
    attempt = find(pytest_run, "test_prints_output").attempts[0]
    assert attempt.stdout is not None and attempt.stderr is not None
    assert "Captured Log" not in attempt.stdout
    assert 'captured stdout line 2 <with> & special "chars"' in attempt.stdout
    assert attempt.stderr.endswith("captured stderr line")
    assert find(pytest_run, "test_passes").attempts[0].stdout is None
    assert find(pytest_run, "test_prints_output").annotations == [
        {"type": "owner", "description": "team-parsers"}
    ]


def test_reruns_become_attempts_of_one_test(reruns_run: RunRecord) -> None:
    # 21 <testcase> elements for 15 tests: every rerun is an empty element before the last.
    assert len(reruns_run.tests) == 15
    failing = find(reruns_run, "test_fails_with_message")
    assert failing.outcome == "failed"
    assert [(a.retry, a.status) for a in failing.attempts] == [(0, "failed"), (1, "failed")]
    assert failing.attempts[0].extra == {"rerun": True}
    setup = find(reruns_run, "test_error_in_fixture_setup")
    # A rerun is an empty element: that it was a setup error too is not written down.
    assert [a.status for a in setup.attempts] == ["failed", "error"]
    assert setup.outcome == "error"
    assert find(reruns_run, "test_passes").attempts[0].retry == 0


def test_pass_on_rerun_is_flaky(reruns_run: RunRecord) -> None:
    test = find(reruns_run, "test_flaky_passes_on_rerun")
    assert test.file == "test_flaky.py"
    assert test.outcome == "flaky"
    assert [a.status for a in test.attempts] == ["failed", "passed"]


# --------------------------------------------------------------- Playwright's junit reporter


def test_playwright_junit_keys_match_the_json_reporters(playwright_run: RunRecord) -> None:
    assert len(playwright_run.tests) == 26
    checkout = find(playwright_run, "Cart", "Checkout", "adds item", project="chromium")
    wishlist = find(playwright_run, "Wishlist", "adds item", project="chromium")
    mobile = find(playwright_run, "Cart", "Checkout", "adds item", project="chromium-mobile")
    assert checkout.file == "nested.spec.js"
    assert len({checkout.key, wishlist.key, mobile.key}) == 3


def test_playwright_junit_outcomes(playwright_run: RunRecord) -> None:
    # The junit reporter writes flaky tests and expected failures as passes; the failure
    # files of a flaky test's failed attempt tell it apart (Playwright counted 2 flaky).
    assert Counter(t.outcome for t in playwright_run.tests) == {
        "passed": 18,
        "flaky": 2,
        "skipped": 4,
        "failed": 2,
    }
    assert (
        find(playwright_run, '<b>bold</b> "quoted" & escaped', project="chromium").outcome
        == "passed"
    )


def test_playwright_retries_are_split_out_of_the_failure_text(playwright_run: RunRecord) -> None:
    test = find(playwright_run, "failing expectation", project="chromium")
    assert [(a.retry, a.status) for a in test.attempts] == [(0, "failed"), (1, "failed")]
    assert test.error_message == "expect(locator).toHaveText(expected) failed"
    first, last = test.attempts
    assert first.error_stack is not None and last.error_stack is not None
    assert "Retry #1" not in first.error_stack and "Retry #1" not in last.error_stack
    assert "11 × locator resolved" in first.error_stack
    assert "10 × locator resolved" in last.error_stack
    assert test.duration_ms == 2806


def test_playwright_attachments_go_to_the_attempt_that_wrote_them(
    playwright_run: RunRecord,
) -> None:
    first, retry = find(playwright_run, "failing expectation", project="chromium").attempts
    assert [(a.name, a.content_type) for a in first.attachments] == [
        ("screenshot", "image/png"),
        ("error-context", "text/markdown"),
        ("trace", "application/zip"),
    ]
    assert first.attachments[2].path == (
        "test-results/outcomes-failing-expectation-chromium/trace.zip"
    )
    assert all("-retry1/" in (a.path or "") for a in retry.attachments)
    assert first.stdout is None  # the attachment lines were all it had


def test_playwright_output_and_properties(playwright_run: RunRecord) -> None:
    logs = find(playwright_run, "logs to stdout and stderr", project="chromium").attempts[0]
    assert (logs.stdout, logs.stderr) == (
        "hello from stdout\nsecond stdout line",
        "hello from stderr",
    )
    assert find(
        playwright_run, "Cart", "Checkout", "shows total", project="chromium"
    ).annotations == [
        {"type": "issue", "description": "PD-7"},
        {"type": "owner", "description": "team-cart"},
    ]


# --------------------------------------------------------------- hostile and hand-made


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(ReportFormatError, match=r"^XML entities are not allowed"):
        load("junit/hostile-entities.xml")


def test_entity_declaration_without_doctype_wrapper_is_refused() -> None:
    xml = (
        b'<!DOCTYPE t [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<testsuite><testcase name="x">&e;</testcase></testsuite>'
    )
    with pytest.raises(ReportFormatError, match=r"^XML entities are not allowed"):
        parse_junit_xml(xml)


def test_truncated_xml_reports_line_and_column() -> None:
    with pytest.raises(ReportFormatError, match=r"^malformed XML at line 5, column 29"):
        load("junit/malformed.xml")


def test_wrong_root_element_is_refused() -> None:
    with pytest.raises(ReportFormatError, match=r"^<html>: expected <testsuites> or <testsuite>"):
        parse_junit_xml(b"<html><body/></html>")


def test_bad_time_attribute_names_the_testcase() -> None:
    xml = b'<testsuite timestamp="2024-01-01T00:00:00"><testcase name="a" time="soon"/></testsuite>'
    with pytest.raises(ReportFormatError, match=r"^testsuite\[0\]/testcase\[0\]/@time"):
        parse_junit_xml(xml)


def test_missing_timestamp_needs_a_fallback() -> None:
    xml = b'<testsuite name="s"><testcase classname="c" name="a" time="0.5"/></testsuite>'
    with pytest.raises(ReportFormatError, match="timestamp"):
        parse_junit_xml(xml)
    when = datetime(2024, 2, 3, tzinfo=UTC)
    run = parse_junit_xml(xml, fallback_started_at=when)
    assert run.started_at == when
    assert run.duration_ms == 0
    assert run.tests[0].duration_ms == 500


SUREFIRE = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="com.example.CartTest" time="3.5" timestamp="2024-03-01T12:00:00" tests="2">
  <testcase name="addsItem" classname="com.example.CartTest" time="1.25">
    <flakyFailure message="expected 1 but was 0" type="java.lang.AssertionError">
      <stackTrace>java.lang.AssertionError: expected 1 but was 0
	at com.example.CartTest.addsItem(CartTest.java:12)</stackTrace>
      <system-out>first try output</system-out>
    </flakyFailure>
  </testcase>
  <testcase name="removesItem" classname="com.example.CartTest" time="2.0">
    <rerunFailure message="timeout" type="java.util.concurrent.TimeoutException"/>
    <failure message="still failing" type="java.lang.AssertionError">stack</failure>
  </testcase>
</testsuite>
"""


def test_surefire_flaky_failure_makes_a_flaky_test() -> None:
    run = parse_junit_xml(SUREFIRE)
    assert run.started_at == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)  # naive: taken as UTC
    flaky = find(run, "addsItem")
    assert flaky.file == "com.example.CartTest"
    assert flaky.outcome == "flaky"
    first, last = flaky.attempts
    assert (first.status, last.status) == ("failed", "passed")
    assert first.error_message == "expected 1 but was 0"
    assert first.error_stack is not None and "CartTest.java:12" in first.error_stack
    assert first.stdout == "first try output"
    assert first.extra["type"] == "java.lang.AssertionError"


def test_surefire_rerun_failure_and_failure_is_failed_with_retries() -> None:
    test = find(parse_junit_xml(SUREFIRE), "removesItem")
    assert test.outcome == "failed"
    assert [(a.retry, a.status) for a in test.attempts] == [(0, "failed"), (1, "failed")]
    assert test.error_message == "still failing"


def test_old_pytest_pass_then_teardown_error_is_one_attempt() -> None:
    # Older pytest wrote a passing call and its teardown error as two <testcase> elements.
    case = (
        b'classname="tests.test_db.TestPool" name="test_connect" file="tests/test_db.py" line="41"'
    )
    xml = (
        b'<testsuites name="pytest tests"><testsuite name="pytest" timestamp="2024-01-01T00:00:00">'
        b"<testcase " + case + b' time="0.2"/>'
        b"<testcase " + case + b' time="0.1">'
        b'<error message="failed on teardown with &quot;OSError: closed&quot;">trace</error>'
        b"</testcase></testsuite></testsuites>"
    )
    (test,) = parse_junit_xml(xml).tests
    assert (test.file, test.title_path) == ("tests/test_db.py", ["TestPool", "test_connect"])
    assert test.location == "tests/test_db.py:42"  # pytest writes 0-based lines
    assert test.outcome == "error"
    assert len(test.attempts) == 1
    assert test.attempts[0].extra["phase"] == "teardown"
    assert test.duration_ms == 300


def test_pytest_dotted_classname_without_file_attribute() -> None:
    xml = (
        b'<testsuites name="pytest tests">'
        b'<testsuite name="pytest" timestamp="2024-01-01T00:00:00Z">'
        b'<testcase classname="tests.api.test_users.TestCreate.TestValidation" name="test_email"/>'
        b'<testcase classname="" name="tests.test_broken">'
        b'<error message="collection failure">ImportError</error></testcase>'
        b"</testsuite></testsuites>"
    )
    nested, broken = parse_junit_xml(xml).tests
    assert nested.file == "tests/api/test_users.py"
    assert nested.title_path == ["TestCreate", "TestValidation", "test_email"]
    assert broken.file == "tests/test_broken.py"
    assert broken.outcome == "error"  # pytest counts a collection error as an error too
    assert broken.error_message == "[error] collection failure"


def test_playwright_project_in_test_name_and_timeouts() -> None:
    xml = """<testsuites>
    <testsuite name="login.spec.ts" hostname="" timestamp="2024-01-01T00:00:00Z">
    <testcase name="[webkit] \u203a Login \u203a works" classname="login.spec.ts" time="30">
      <failure message="Test timeout of 30000ms exceeded." type="FAILURE">boom</failure>
    </testcase></testsuite></testsuites>""".encode()
    (test,) = parse_junit_xml(xml).tests
    assert (test.browser_project, test.title_path) == ("webkit", ["Login", "works"])
    assert test.outcome == "timedout"
