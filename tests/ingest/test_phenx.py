"""phenx (the PhenX reporter's format) against tests/data/phenx/submit.json, the body the reporter
format produced for the same Playwright run as tests/data/playwright (2 projects, retries 1),
and hand-made bodies for the edge cases."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from playdeck.ingest.parsers.phenx import parse_phenx_submit, parse_phenx_upload
from playdeck.ingest.records import ReportFormatError, RunRecord, TestRecord, attempts_duration

SUBMIT = Path(__file__).parent.parent / "data" / "phenx" / "submit.json"


@pytest.fixture(scope="module")
def body() -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(SUBMIT.read_bytes())
    return data


@pytest.fixture(scope="module")
def run(body: dict[str, Any]) -> RunRecord:
    return parse_phenx_submit(body)


def find(run: RunRecord, *title_path: str, project: str = "project 1") -> TestRecord:
    matches = [
        t for t in run.tests if t.title_path == list(title_path) and t.browser_project == project
    ]
    assert len(matches) == 1, [(t.browser_project, t.title_path) for t in run.tests]
    return matches[0]


def test_attempts_fold_back_into_one_test_per_project(body: dict[str, Any], run: RunRecord) -> None:
    # 30 elements: 13 tests x 2 projects, plus a retry each for the 2 tests that failed first.
    assert len(body["testCases"]) == 30
    assert len(run.tests) == 26
    assert sum(len(t.attempts) for t in run.tests) == 30
    indexes = sorted(a.source_index or 0 for t in run.tests for a in t.attempts)
    assert indexes == list(range(30))  # trace_<N> parts can find their attempt
    # The format does not name projects: the tests at one location are numbered.
    assert Counter(t.browser_project for t in run.tests) == {"project 1": 13, "project 2": 13}


def test_outcomes(run: RunRecord) -> None:
    # Playwright's own count for the run: 16 passed, 2 failed, 2 flaky, 2 expected failures,
    # 4 skipped.
    assert Counter(t.outcome for t in run.tests) == {
        "passed": 16,
        "failed": 4,
        "flaky": 2,
        "skipped": 4,
    }
    # The format does not carry test.fail(): an expected failure reads as a failure.
    assert find(run, "expected to fail and fails").outcome == "failed"


def test_flaky_test_of_two_projects_is_two_flaky_tests(run: RunRecord) -> None:
    for project in ("project 1", "project 2"):
        test = find(run, "flaky on first attempt", project=project)
        assert test.outcome == "flaky"
        assert [(a.retry, a.status) for a in test.attempts] == [(0, "failed"), (1, "passed")]
        assert test.duration_ms == attempts_duration(test.attempts)
        assert test.error_message is not None
        assert test.error_message.startswith("Error: fails unless this is a retry")
        assert "\x1b" not in test.error_message


def test_failing_test_keeps_its_location_and_unansied_error(run: RunRecord) -> None:
    test = find(run, "failing expectation")
    assert test.outcome == "failed"
    # Relative to the projects' testDir ("tests", from the metadata), as Playwright names it.
    assert test.file == "outcomes.spec.js"
    assert test.location == "outcomes.spec.js:20:1"
    assert test.error_message is not None
    assert 'Expected: "Something else"' in test.error_message
    assert all("\x1b" not in (a.error_message or "") for a in test.attempts)


def test_same_title_at_two_lines_gives_two_tests(run: RunRecord) -> None:
    checkout = find(run, "line 6", "adds item")
    wishlist = find(run, "line 24", "adds item")
    assert checkout.key != wishlist.key
    assert find(run, "shows total").title_path == ["shows total"]  # unique titles stay bare


def test_html_like_title_is_kept_as_text(run: RunRecord) -> None:
    assert find(run, '<b>bold</b> "quoted" & escaped').outcome == "passed"


def test_tags_written_in_titles_are_extracted(run: RunRecord) -> None:
    assert find(run, "login works @smoke @regression").tags == ["@smoke", "@regression"]
    assert find(run, "shows total").tags == []


def test_run_fields_from_metadata(run: RunRecord) -> None:
    assert run.source_format == "phenx"
    assert run.project_name == "playdeck-fixtures"
    assert run.status == "failed"
    assert run.started_at == datetime(2026, 11, 23, 6, 37, 28, 443000, tzinfo=UTC)
    assert run.duration_ms == 24743
    assert (run.branch, run.commit_sha, run.author, run.commit_message) == (
        "main",
        "0123456789abcdef0123456789abcdef01234567",
        "Fixture Bot",
        "Regenerate parser fixtures",
    )
    assert (run.ci_provider, run.ci_build_number, run.ci_build_url) == (
        "Jenkins",
        "128",
        "https://ci.example.invalid/job/playdeck-fixtures/128/",
    )
    assert run.tags == ["fixtures"]
    assert run.metadata["htmlReport"]["workers"] == 1
    assert run.metadata["reported_totals"]["totalTests"] == 30


def test_steps_and_performance_go_to_the_attempt(run: RunRecord) -> None:
    attempt = find(run, "failing expectation").attempts[0]
    assert attempt.steps[0] == {"title": "Before Hooks", "duration": 186, "category": "other"}
    assert attempt.extra["slowest_step"] == {"title": 'Expect "toHaveText"', "duration": 1012}
    assert "network_requests" not in attempt.extra  # [] from the reporter: nothing to keep
    skipped = find(run, "skipped test").attempts[0]
    assert skipped.steps == [] and "slowest_step" not in skipped.extra


# --------------------------------------------------------------- hand-made bodies


def case(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": "logs in",
        "location": "tests/login.spec.ts:10:5",
        "status": "passed",
        "duration": 100,
        "error": None,
        "retries": 0,
    }
    base.update(overrides)
    return base


def submit(*cases: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "projectName": "shop",
        "status": "passed",
        "startTime": "2024-06-01T08:00:00.000Z",
        "duration": 1000,
        "testCases": list(cases),
    }
    body.update(overrides)
    return body


def test_wrong_type_names_the_element_and_field() -> None:
    body = submit(case(), case(), case(), case(duration="slow"))
    with pytest.raises(ReportFormatError, match=r"^testCases\[3\]\.duration: expected a number"):
        parse_phenx_submit(body)


def test_required_fields() -> None:
    with pytest.raises(ReportFormatError, match=r"^report: missing 'projectName'$"):
        parse_phenx_submit({"status": "passed", "startTime": 0})
    with pytest.raises(ReportFormatError, match=r"^testCases\[0\]: missing 'status'$"):
        parse_phenx_submit(submit({"title": "x"}))
    with pytest.raises(ReportFormatError, match=r"^status: expected one of"):
        parse_phenx_submit(submit(status="green"))
    with pytest.raises(ReportFormatError, match=r"^startTime: expected an ISO 8601"):
        parse_phenx_submit(submit(startTime="yesterday"))


def test_windows_drive_letter_location() -> None:
    run = parse_phenx_submit(submit(case(location="C:\\work\\shop\\tests\\a.spec.ts:10:5")))
    (test,) = run.tests
    assert test.file == "C:/work/shop/tests/a.spec.ts"
    assert test.location == "C:/work/shop/tests/a.spec.ts:10:5"


def test_epoch_milliseconds_start_time_and_unknown_keys() -> None:
    run = parse_phenx_submit(submit(case(shiny=True), startTime=1717228800000, extra={"x": 1}))
    assert run.started_at == datetime(2024, 6, 1, 8, 0, tzinfo=UTC)


def test_timed_out_and_interrupted_statuses() -> None:
    run = parse_phenx_submit(
        submit(case(status="timedOut", error="\x1b[31mTest timeout\x1b[0m"), status="timedout")
    )
    (test,) = run.tests
    assert (run.status, test.outcome, test.error_message) == (
        "timedout",
        "timedout",
        "Test timeout",
    )


def test_interleaved_retries_of_two_projects() -> None:
    # Two projects run in parallel: their attempts arrive interleaved.
    run = parse_phenx_submit(
        submit(
            case(status="failed", error="a0"),
            case(status="failed", error="b0"),
            case(status="passed", retries=1),
            case(status="failed", retries=1, error="b1"),
        )
    )
    first, second = run.tests
    assert (first.browser_project, first.outcome) == ("project 1", "flaky")
    assert [(a.retry, a.status, a.source_index) for a in first.attempts] == [
        (0, "failed", 0),
        (1, "passed", 2),
    ]
    assert (second.browser_project, second.outcome, second.error_message) == (
        "project 2",
        "failed",
        "b1",
    )
    assert [(a.retry, a.status, a.source_index) for a in second.attempts] == [
        (0, "failed", 1),
        (1, "failed", 3),
    ]


def test_network_requests_and_web_vitals_are_kept_bounded() -> None:
    requests = [
        {"method": "GET", "url": f"https://shop.invalid/{i}", "status": 200, "duration": 3}
        for i in range(600)
    ]
    vitals = {"navigation": {"domContentLoaded": 120}, "paint": {"first-contentful-paint": 80}}
    (test,) = parse_phenx_submit(submit(case(networkRequests=requests, webVitals=vitals))).tests
    extra = test.attempts[0].extra
    assert len(extra["network_requests"]) == 500
    assert extra["network_requests_dropped"] == 100
    assert extra["web_vitals"] == vitals


def test_steps_must_be_objects() -> None:
    with pytest.raises(ReportFormatError, match=r"^testCases\[0\]\.steps\[1\]: expected an object"):
        parse_phenx_submit(submit(case(steps=[{"title": "a", "duration": 1}, "b"])))


def test_upload_form_variant_shares_the_rules() -> None:
    test_run = {
        "status": "passed",
        "startTime": "2024-06-01T08:00:00Z",
        "duration": 5,
        "totalTests": 2,
        "metadata": {"scm": {"branch": "release/1.2"}, "ci": {"runNumber": 77}},
        "projectDescription": "The shop",
    }
    run = parse_phenx_upload(
        test_run,
        [case(status="failed", error="x"), case(status="passed", retries=1)],
        project_name="shop",
    )
    assert (run.project_name, run.project_description) == ("shop", "The shop")
    assert (run.branch, run.ci_build_number) == ("release/1.2", "77")
    (test,) = run.tests
    assert test.outcome == "flaky"
    with pytest.raises(ReportFormatError, match=r"^testRun\.startTime: "):
        parse_phenx_upload({**test_run, "startTime": True}, [])
    with pytest.raises(ReportFormatError, match=r"^testCases: expected an array"):
        parse_phenx_upload(test_run, {"title": "x"})


def test_titles_lose_nul_bytes_and_colour_codes() -> None:
    (test,) = parse_phenx_submit(submit(case(title="a\x00b \x1b[1mbold\x1b[0m"))).tests
    assert test.title_path == ["ab bold"]
