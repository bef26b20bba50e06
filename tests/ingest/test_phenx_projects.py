"""The PhenX reporter's format with several Playwright projects: one test per project, with
its own attempts, retries and duration; and what its metadata lets us tie to other clients."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from playdeck.ingest.parsers.phenx import parse_phenx_submit
from playdeck.ingest.parsers.playwright_json import parse_playwright_json
from playdeck.ingest.records import attempts_duration

SUITE = Path(__file__).parents[1] / "data" / "client-suite"
PROJECTS = {"projects": [{"name": "desktop", "testDir": "tests"}, {"name": "mobile"}]}

# (title, line, statuses of the attempts of one project, in order); retries: 2 in the config.
SHAPE = [
    ("opens the shop @smoke", 5, ["passed"]),
    ("lists products", 12, ["passed"]),
    ("filters by price", 20, ["passed"]),
    ("pays by card", 28, ["failed", "failed", "failed"]),
    ("recovers on retry", 36, ["failed", "passed"]),
    ("pays with a gift card", 44, ["skipped"]),
    ("ships abroad", 52, ["skipped"]),
]


def _two_projects_interleaved() -> list[dict[str, Any]]:
    """Both projects' attempts as two parallel workers deliver them: the same test's attempts
    of both projects alternate, each project with its own durations."""
    cases = []
    for title, line, statuses in SHAPE:
        for retry, status in enumerate(statuses):
            for duration in (100 + line, 1000 + line):  # desktop's attempt, then mobile's
                cases.append(
                    {
                        "title": title,
                        "location": f"tests/shop.spec.js:{line}:3",
                        "status": status,
                        "duration": duration + retry,
                        "error": "boom" if status == "failed" else None,
                        "retries": retry,
                    }
                )
    return cases


def _submit(cases: list[dict[str, Any]], metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "projectName": "shop",
        "status": "failed",
        "startTime": "2026-12-01T08:00:00Z",
        "duration": 5000,
        "totalTests": len(cases),
        "metadata": metadata,
        "testCases": cases,
    }


def test_two_projects_are_fourteen_tests_with_their_own_retries_and_durations() -> None:
    run = parse_phenx_submit(_submit(_two_projects_interleaved(), {"htmlReport": PROJECTS}))

    assert len(run.tests) == 14
    assert Counter(t.outcome for t in run.tests) == {
        "passed": 6,
        "failed": 2,
        "flaky": 2,
        "skipped": 4,
    }
    retries = {(t.title_path[-1], t.browser_project): len(t.attempts) - 1 for t in run.tests}
    assert retries[("pays by card", "project 1")] == retries[("pays by card", "project 2")] == 2
    assert retries[("recovers on retry", "project 2")] == 1
    assert retries[("lists products", "project 1")] == 0  # never retried: no retry shown
    durations = sorted(t.duration_ms for t in run.tests if t.title_path == ["lists products"])
    assert durations == [112, 1012]  # each project's own, not their sum
    failing = [t for t in run.tests if t.title_path == ["pays by card"]]
    assert [attempts_duration(t.attempts) for t in failing] == [t.duration_ms for t in failing]
    assert {t.file for t in run.tests} == {"shop.spec.js"}  # relative to testDir "tests"
    assert [t.tags for t in run.tests if t.title_path == ["opens the shop @smoke"]] == [
        ["@smoke"],
        ["@smoke"],
    ]


def test_one_project_in_the_metadata_names_the_tests_and_folds_repeats() -> None:
    one = {"htmlReport": {"projects": [{"name": "desktop", "testDir": "tests"}]}}
    cases = [
        {"title": "a", "location": "tests/x.spec.js:1:1", "status": s, "retries": 0}
        for s in ("passed", "failed")  # --repeat-each 2
    ]
    (test,) = parse_phenx_submit(_submit(cases, one)).tests
    assert (test.browser_project, test.file, test.outcome) == ("desktop", "x.spec.js", "failed")
    assert [a.extra["repeat"] for a in test.attempts] == [0, 1]


def test_without_metadata_files_stay_as_sent() -> None:
    cases = [{"title": "a", "location": "tests/x.spec.js:1:1", "status": "passed", "retries": 0}]
    (test,) = parse_phenx_submit(_submit(cases, {})).tests
    assert (test.file, test.browser_project) == ("tests/x.spec.js", "")


def test_real_two_project_run_counts_what_playwright_counted() -> None:
    """The PhenX format's body and Playwright's JSON report of one real run agree on counts,
    retries and durations, though the format cannot name the projects."""
    phenx = parse_phenx_submit(orjson.loads((SUITE / "phenx-submit.json").read_bytes()))
    report = parse_playwright_json(orjson.loads((SUITE / "report.json").read_bytes()))

    assert Counter(t.outcome for t in phenx.tests) == Counter(t.outcome for t in report.tests)
    assert sorted(len(t.attempts) for t in phenx.tests) == sorted(
        len(t.attempts) for t in report.tests
    )
    assert {t.file for t in phenx.tests} == {t.file for t in report.tests}
