"""playwright_json against tests/data/playwright/report.json (a real Playwright 1.65 run of
scripts/fixtures/playwright: 13 tests x 2 projects, retries 1) and small hand-made inputs."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from playdeck.ingest.parsers.playwright_json import parse_playwright_json
from playdeck.ingest.parsers.reading import MAX_STEPS
from playdeck.ingest.records import ReportFormatError, RunRecord, TestRecord, attempts_duration
from playdeck.models.attempt import MAX_OUTPUT_CHARS

REPORT = Path(__file__).parent.parent / "data" / "playwright" / "report.json"


@pytest.fixture(scope="module")
def run() -> RunRecord:
    return parse_playwright_json(orjson.loads(REPORT.read_bytes()))


def find(run: RunRecord, *title_path: str, project: str = "chromium") -> TestRecord:
    matches = [
        t for t in run.tests if t.title_path == list(title_path) and t.browser_project == project
    ]
    assert len(matches) == 1, matches
    return matches[0]


def test_every_test_of_every_project_is_read(run: RunRecord) -> None:
    assert run.source_format == "playwright-json"
    assert len(run.tests) == 26
    assert Counter(t.browser_project for t in run.tests) == {"chromium": 13, "chromium-mobile": 13}
    assert len({t.key for t in run.tests}) == 26


def test_outcomes_agree_with_playwrights_own_stats(run: RunRecord) -> None:
    # stats in the report: expected 18, skipped 4, unexpected 2, flaky 2
    assert Counter(t.outcome for t in run.tests) == {
        "passed": 18,
        "skipped": 4,
        "failed": 2,
        "flaky": 2,
    }


def test_run_times_and_playwright_summary(run: RunRecord) -> None:
    assert run.started_at == datetime(2026, 11, 23, 6, 37, 28, 365000, tzinfo=UTC)
    assert run.duration_ms == 24802
    summary = run.metadata["playwright"]
    assert summary["version"] == "1.65.1"
    assert [p["name"] for p in summary["projects"]] == ["chromium", "chromium-mobile"]
    assert summary["output_dirs"] == ["/work/main/scripts/fixtures/playwright/test-results"]
    assert "errors" not in run.metadata  # the run had no global errors


def test_flaky_test_keeps_both_attempts_and_the_first_error(run: RunRecord) -> None:
    test = find(run, "flaky on first attempt")
    assert test.outcome == "flaky"
    assert [(a.retry, a.status) for a in test.attempts] == [(0, "failed"), (1, "passed")]
    assert test.error_message is not None
    assert test.error_message.startswith("Error: fails unless this is a retry")
    assert test.duration_ms == attempts_duration(test.attempts)


def test_failing_test_has_two_failed_attempts_with_ansi_stripped(run: RunRecord) -> None:
    test = find(run, "failing expectation", project="chromium-mobile")
    assert test.outcome == "failed"
    assert [a.status for a in test.attempts] == ["failed", "failed"]
    assert test.error_message is not None and test.error_stack is not None
    assert 'Expected: "Something else"' in test.error_message
    assert "outcomes.spec.js:22:38" in test.error_stack
    assert test.location == "outcomes.spec.js:20:1"
    assert test.attempts[0].extra["error_location"]["line"] == 22
    for t in run.tests:
        for text in (t.error_message, t.error_stack, *(a.error_message for a in t.attempts)):
            assert "\x1b" not in (text or "")


def test_expected_failure_counts_as_passed_without_an_error(run: RunRecord) -> None:
    test = find(run, "expected to fail and fails")
    assert test.expected_status == "failed"
    assert test.outcome == "passed"
    assert test.error_message is None  # the attempt failed as expected
    assert test.attempts[0].status == "failed"
    assert test.attempts[0].error_message is not None
    assert {"type": "fail", "description": "known bug: heading text is wrong"} in test.annotations


def test_same_title_in_two_describe_blocks_gives_two_keys(run: RunRecord) -> None:
    checkout = find(run, "Cart", "Checkout", "adds item")
    wishlist = find(run, "Wishlist", "adds item")
    assert checkout.file == wishlist.file == "nested.spec.js"
    assert checkout.key != wishlist.key
    assert checkout.location == "nested.spec.js:6:5"
    assert wishlist.location == "nested.spec.js:24:3"


def test_each_project_gives_its_own_key(run: RunRecord) -> None:
    desktop = find(run, "Cart", "Checkout", "adds item", project="chromium")
    mobile = find(run, "Cart", "Checkout", "adds item", project="chromium-mobile")
    assert desktop.key != mobile.key


def test_screenshot_and_trace_attachments_are_found_per_attempt(run: RunRecord) -> None:
    test = find(run, "failing expectation")
    first, retry = test.attempts
    assert [a.name for a in first.attachments] == ["screenshot", "error-context", "trace"]
    trace = first.attachments[2]
    assert trace.content_type == "application/zip"
    assert trace.body is None
    assert trace.path is not None
    assert trace.path.endswith("test-results/outcomes-failing-expectation-chromium/trace.zip")
    assert all("-retry1/" in (a.path or "") for a in retry.attachments)


def test_inline_attachment_body_is_decoded(run: RunRecord) -> None:
    attachments = find(run, "attaches files").attempts[0].attachments
    inline = next(a for a in attachments if a.name == "inline-note")
    assert inline.body == b"inline attachment body\n"
    assert inline.path is None
    by_path = next(a for a in attachments if a.name == "file-note")
    assert by_path.body is None and by_path.path is not None


def test_html_like_title_is_kept_as_text(run: RunRecord) -> None:
    assert find(run, '<b>bold</b> "quoted" & escaped').outcome == "passed"


def test_tags_get_their_at_sign_back(run: RunRecord) -> None:
    assert find(run, "login works @smoke @regression").tags == ["@smoke", "@regression"]
    assert find(run, "Cart", "Checkout", "shows total").tags == ["@checkout"]
    assert find(run, "Wishlist", "adds item").tags == []


def test_annotations_from_test_and_result_are_merged_once(run: RunRecord) -> None:
    assert find(run, "passing test with steps").annotations == [
        {"type": "issue", "description": "https://example.invalid/issues/42"}
    ]
    assert find(run, "skipped test").annotations == [{"type": "skip", "description": None}]
    assert find(run, "fixme test").outcome == "skipped"


def test_output_and_steps(run: RunRecord) -> None:
    logs = find(run, "logs to stdout and stderr").attempts[0]
    assert logs.stdout == "hello from stdout\nsecond stdout line\n"
    assert logs.stderr == "hello from stderr\n"
    steps = find(run, "passing test with steps").attempts[0].steps
    assert [s["title"] for s in steps] == ["open page", "check heading"]
    assert all(s["category"] == "test.step" and s["depth"] == 0 for s in steps)


# --------------------------------------------------------------- hand-made reports


def result(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "retry": 0,
        "status": "passed",
        "duration": 12,
        "startTime": "2024-05-01T10:00:01.000Z",
        "errors": [],
        "stdout": [],
        "stderr": [],
        "attachments": [],
    }
    base.update(overrides)
    return base


def report(*results: dict[str, Any], status: str = "expected", **test: Any) -> dict[str, Any]:
    return {
        "config": {"version": "1.50.0", "metadata": {}},
        "suites": [
            {
                "title": "a.spec.ts",
                "file": "a.spec.ts",
                "specs": [
                    {
                        "title": "t",
                        "file": "a.spec.ts",
                        "line": 3,
                        "column": 5,
                        "tags": [],
                        "tests": [
                            {
                                "projectName": "firefox",
                                "expectedStatus": "passed",
                                "annotations": [],
                                "results": list(results) or [result()],
                                "status": status,
                                **test,
                            }
                        ],
                    }
                ],
            }
        ],
        "errors": [],
        "stats": {"startTime": "2024-05-01T10:00:00.000Z", "duration": 1500.4},
    }


def test_missing_results_names_the_test() -> None:
    data = report()
    del data["suites"][0]["specs"][0]["tests"][0]["results"]
    with pytest.raises(
        ReportFormatError, match=r"^suites\[0\]\.specs\[0\]\.tests\[0\]: missing 'results'$"
    ):
        parse_playwright_json(data)


def test_wrong_type_names_the_field() -> None:
    with pytest.raises(
        ReportFormatError,
        match=r"^suites\[0\]\.specs\[0\]\.tests\[0\]\.results\[0\]\.duration: expected a number",
    ):
        parse_playwright_json(report(result(duration="12")))


def test_unknown_attempt_status_is_refused() -> None:
    with pytest.raises(ReportFormatError, match=r"results\[0\]\.status: expected one of"):
        parse_playwright_json(report(result(status="exploded")))


def test_not_an_object_is_refused() -> None:
    with pytest.raises(ReportFormatError, match=r"^report: expected an object, got an array$"):
        parse_playwright_json([])
    with pytest.raises(ReportFormatError, match=r"^report: missing 'suites'$"):
        parse_playwright_json({"config": {}})


def test_timed_out_attempt_status_is_lower_cased() -> None:
    run = parse_playwright_json(
        report(
            result(status="timedOut", error={"message": "Test timeout of 5ms exceeded."}),
            status="unexpected",
        )
    )
    (test,) = run.tests
    assert test.outcome == "timedout"
    assert test.attempts[0].status == "timedout"
    assert test.error_message == "Test timeout of 5ms exceeded."


def test_playwright_verdict_wins_over_our_fold() -> None:
    # failOnFlakyTests: Playwright calls a pass-after-failure unexpected.
    run = parse_playwright_json(
        report(result(status="failed"), result(retry=1, status="passed"), status="unexpected")
    )
    assert run.tests[0].outcome == "failed"


def test_output_buffers_are_decoded_and_bounded() -> None:
    big = "x" * (MAX_OUTPUT_CHARS + 10)
    run = parse_playwright_json(
        report(
            result(
                stdout=[{"buffer": "G1szMW1yZWQbWzBt"}, {"text": "\n"}],  # "\x1b[31mred\x1b[0m"
                stderr=[{"text": big}],
            )
        )
    )
    attempt = run.tests[0].attempts[0]
    assert attempt.stdout == "red\n"
    assert attempt.stderr is not None
    assert attempt.stderr.startswith("x" * MAX_OUTPUT_CHARS)
    assert "truncated 10 characters" in attempt.stderr


def test_invalid_base64_attachment_names_the_field() -> None:
    bad = result(attachments=[{"name": "n", "contentType": "text/plain", "body": "%%%"}])
    with pytest.raises(ReportFormatError, match=r"attachments\[0\]\.body: invalid base64"):
        parse_playwright_json(report(bad))


def test_steps_are_flattened_and_bounded() -> None:
    nested = [{"title": "outer", "duration": 5, "steps": [{"title": "inner", "duration": 2}]}]
    many = [{"title": f"s{i}", "duration": 1} for i in range(MAX_STEPS + 7)]
    run = parse_playwright_json(report(result(steps=nested + many)))
    attempt = run.tests[0].attempts[0]
    assert attempt.steps[:2] == [
        {"title": "outer", "duration": 5, "category": "test.step", "depth": 0},
        {"title": "inner", "duration": 2, "category": "test.step", "depth": 1},
    ]
    assert len(attempt.steps) == MAX_STEPS
    assert attempt.extra["steps_dropped"] == 9


def test_git_and_ci_facts_come_from_config_metadata() -> None:
    data = report()
    data["config"]["metadata"] = {
        "gitCommit": {
            "hash": "abc123",
            "branch": "feature/x",
            "subject": "Fix the thing",
            "author": {"name": "Ada", "email": "ada@example.invalid"},
        },
        "ci": {"buildHref": "https://ci.example.invalid/1", "commitHash": "ignored"},
        "gitDiff": "d" * 100_000,
    }
    run = parse_playwright_json(data)
    assert (run.branch, run.commit_sha, run.commit_message, run.author) == (
        "feature/x",
        "abc123",
        "Fix the thing",
        "Ada",
    )
    assert run.ci_build_url == "https://ci.example.invalid/1"
    assert "gitDiff" not in run.metadata["config"]


def test_repeated_test_folds_into_one_with_the_worst_outcome() -> None:
    data = report()
    tests = data["suites"][0]["specs"][0]["tests"]
    again = copy.deepcopy(tests[0])
    again["results"] = [result(status="failed", error={"message": "boom"})]
    again["status"] = "unexpected"
    tests.append(again)  # --repeat-each 2
    (test,) = parse_playwright_json(data).tests
    assert test.outcome == "failed"
    assert test.error_message == "boom"
    assert [a.extra["repeat"] for a in test.attempts] == [0, 1]


def test_start_time_falls_back_to_the_first_attempt() -> None:
    data = report()
    del data["stats"]["startTime"]
    run = parse_playwright_json(data)
    assert run.started_at == datetime(2024, 5, 1, 10, 0, 1, tzinfo=UTC)
