"""Playwright's junit reporter read faithfully: flaky tests from their failure files, attempts'
durations only where the XML knows them, colour-code remnants, tags written in titles."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.ingest.parsers.junit import parse_junit_xml
from playdeck.ingest.parsers.playwright_json import parse_playwright_json
from playdeck.ingest.records import RunRecord, TestRecord
from playdeck.models import Attempt, Result

DATA = Path(__file__).parents[1] / "data"
SUITE = DATA / "client-suite"


def _find(run: RunRecord, title: str, project: str) -> TestRecord:
    (test,) = [t for t in run.tests if t.title_path[-1] == title and t.browser_project == project]
    return test


def test_flaky_test_is_a_failed_attempt_then_a_passed_one_with_the_screenshot_on_the_first() -> (
    None
):
    run = parse_junit_xml((DATA / "playwright" / "junit.xml").read_bytes())
    test = _find(run, "flaky on first attempt", "chromium")
    assert test.outcome == "flaky"
    failed, passed = test.attempts
    assert [(a.retry, a.status) for a in test.attempts] == [(0, "failed"), (1, "passed")]
    assert {a.name for a in failed.attachments} >= {"screenshot", "trace"}
    assert passed.attachments == ()
    # The testcase's time is both attempts'; neither attempt's own is known.
    assert test.duration_ms > 0
    assert [a.duration_ms for a in test.attempts] == [None, None]


def test_failed_test_retries_keep_the_testcase_time_and_leave_attempts_unknown() -> None:
    run = parse_junit_xml((DATA / "playwright" / "junit.xml").read_bytes())
    test = _find(run, "failing expectation", "chromium")
    assert len(test.attempts) == 2
    assert test.duration_ms > 0
    assert [a.duration_ms for a in test.attempts] == [None, None]
    single = _find(run, "shows total", "chromium")
    (attempt,) = single.attempts
    assert attempt.duration_ms == single.duration_ms > 0  # one attempt: its time is known


def test_expected_failure_is_not_read_as_flaky() -> None:
    run = parse_junit_xml((DATA / "playwright" / "junit.xml").read_bytes())
    test = _find(run, "expected to fail and fails", "chromium")
    assert (test.outcome, len(test.attempts)) == ("passed", 1)


def test_real_suite_junit_counts_what_playwright_counted() -> None:
    junit = parse_junit_xml((SUITE / "junit.xml").read_bytes())
    report = parse_playwright_json(orjson.loads((SUITE / "report.json").read_bytes()))
    assert Counter(t.outcome for t in junit.tests) == Counter(t.outcome for t in report.tests)
    assert {t.key for t in junit.tests} == {t.key for t in report.tests}
    retries = {t.key: len(t.attempts) for t in report.tests}
    assert {t.key: len(t.attempts) for t in junit.tests} == retries


def _case(body: str, *, time: str = "1.5") -> bytes:
    return f"""<testsuites><testsuite name="a.spec.ts" hostname="desktop"
        timestamp="2026-01-01T00:00:00Z">
    <testcase name="checkout \u203a pays @smoke" classname="a.spec.ts" time="{time}">
    {body}
    </testcase></testsuite></testsuites>""".encode()


def test_colour_code_remnants_are_stripped_from_output() -> None:
    # Playwright's XML escaping drops the ESC character and leaves the rest of the code.
    xml = _case(
        "<system-out><![CDATA[attempt [33m0[39m\n[1mbold[22m [31;1mred[0m\n]]></system-out>"
        "<system-err><![CDATA[warn [2m(dim)[22m]]></system-err>"
    )
    (test,) = parse_junit_xml(xml).tests
    assert test.attempts[0].stdout == "attempt 0\nbold red"
    assert test.attempts[0].stderr == "warn (dim)"


def test_tags_written_in_titles_are_extracted() -> None:
    (test,) = parse_junit_xml(_case("")).tests
    assert test.tags == ["@smoke"]
    assert test.title_path == ["checkout", "pays @smoke"]


def test_include_retries_flaky_failure_keeps_each_attempts_time() -> None:
    xml = _case(
        '<flakyFailure message="boom" type="FAILURE" time="0.7"><stackTrace>boom</stackTrace>'
        "</flakyFailure>",
        time="0.4",
    )
    (test,) = parse_junit_xml(xml).tests
    assert test.outcome == "flaky"
    assert [(a.status, a.duration_ms) for a in test.attempts] == [("failed", 700), ("passed", 400)]
    assert test.duration_ms == 1100


def test_include_retries_rerun_failures_follow_the_first_attempt() -> None:
    xml = _case(
        '<rerunFailure message="second" type="FAILURE" time="0.9"><stackTrace>second'
        "</stackTrace></rerunFailure>"
        '<failure message="first" type="FAILURE">first</failure>',
        time="0.3",
    )
    (test,) = parse_junit_xml(xml).tests
    assert test.outcome == "failed"
    assert [(a.retry, a.error_message, a.duration_ms) for a in test.attempts] == [
        (0, "first", 300),
        (1, "second", 900),
    ]


def test_unknown_attempt_durations_are_stored_and_served_as_unknown(
    client: TestClient, db: Session
) -> None:
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "web"},
        files={"file": ("junit.xml", (SUITE / "junit.xml").read_bytes(), "application/xml")},
    )
    assert response.status_code == 201, response.text
    run_id = response.json()["testRunId"]
    stored = Counter(
        d is None
        for d in db.scalars(select(Attempt.duration_ms).join(Result).where(Result.run_id == run_id))
    )
    assert stored == {True: 8, False: 6}  # 4 retried tests' 8 attempts; 6 single attempts known

    page = client.get(f"/api/test-runs/{run_id}/tests", params={"q": "recovers on retry"})
    assert page.status_code == 200, page.text
    for test in page.json()["items"]:
        assert test["duration_ms"] > 0
        assert [a["duration_ms"] for a in test["attempts"]] == [None, None]
    html = client.get(f"/runs/{run_id}", headers={"Accept": "text/html"})
    assert html.status_code == 200
