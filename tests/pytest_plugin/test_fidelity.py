"""A pytest run's counts in Playdeck are pytest's own summary, on both paths.

One real session (a subprocess, under pytest-xdist and pytest-rerunfailures) with every
outcome pytest names sends its run through the plugin and writes ``--junitxml``; the JUnit file
is then uploaded as CI would. Both stored runs are compared with the summary line pytest
printed ("2 failed, 4 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 error, 3 rerun").
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Protocol

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Attempt, Result, Run, Test

pytest_plugins = ["pytester"]


class LiveServer(Protocol):
    url: str


SUITE = """
import pathlib
import pytest

@pytest.fixture
def database():
    raise RuntimeError("database is down")

@pytest.mark.parametrize("n", [1, 2, 3])
def test_passes(n):
    pass

def test_fails():
    assert 1 + 1 == 3

def test_skipped():
    pytest.skip("not on this platform")

@pytest.mark.xfail(reason="bug 12")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="maybe fixed")
def test_xpass():
    pass

@pytest.mark.xfail(reason="must fail", strict=True)
def test_xpass_strict():
    pass

def test_fixture_error(database):
    pass

def test_flaky():
    marker = pathlib.Path("flaky-marker")
    if not marker.exists():
        marker.write_text("1")
        raise AssertionError("first run fails")
"""

SUMMARY = re.compile(r"^=+ (.*) in [\d.]+s")
# pytest's summary words; "errors" and "error" are one word.
WORDS = {"errors": "error", "reruns": "rerun"}


def pytest_summary(result: pytest.RunResult) -> Counter[str]:
    """The counts of pytest's last line: ``{"failed": 2, "passed": 4, ...}``."""
    line = next(m[1] for m in map(SUMMARY.match, reversed(result.outlines)) if m)
    counts: Counter[str] = Counter()
    for part in line.split(", "):
        number, word = part.split(" ", 1)
        counts[WORDS.get(word, word)] += int(number)
    return counts


def stored(db: Session, run: Run) -> dict[str, tuple[str, list[str]]]:
    """Each test's outcome and its attempts' statuses, by title."""
    rows = db.execute(
        select(Test.full_title, Result).join(Test).where(Result.run_id == run.id)
    ).all()
    tests = {}
    for title, result in rows:
        attempts = db.scalars(
            select(Attempt.status).where(Attempt.result_id == result.id).order_by(Attempt.retry)
        )
        tests[title] = (result.outcome, list(attempts))
    return tests


def counts_of(run: Run) -> dict[str, int]:
    return {
        "passed": run.passed,
        "flaky": run.flaky,
        "failed": run.failed,
        "error": run.error,
        "skipped": run.skipped,
        "xfailed": run.xfailed,
        "xpassed": run.xpassed,
    }


def test_both_pytest_paths_store_pytests_own_summary(
    pytester: pytest.Pytester, live_server: LiveServer, db: Session
) -> None:
    pytester.makepyfile(test_outcomes=SUITE, test_broken="import no_such_module\n")

    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        "--reruns",
        "1",
        "--continue-on-collection-errors",
        "--junitxml=junit.xml",
        f"--playdeck-url={live_server.url}",
        "--playdeck-project=fidelity",
        timeout=120,
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    summary = pytest_summary(result)
    # What this suite makes pytest say; the assertions below compare Playdeck with it.
    assert summary == {
        "failed": 2,  # test_fails, test_xpass_strict
        "passed": 4,  # three test_passes, test_flaky on its rerun
        "skipped": 1,
        "xfailed": 1,
        "xpassed": 1,
        "error": 2,  # test_fixture_error, test_broken.py's collection
        "rerun": 4,  # test_fails, test_xpass_strict, test_fixture_error, test_flaky
    }

    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        response = client.post(
            "/api/test-runs/upload",
            data={"projectName": "fidelity"},
            files={"file": ("junit.xml", (pytester.path / "junit.xml").read_bytes())},
        )
    assert response.status_code == 201, response.text

    plugin_run = db.scalars(select(Run).where(Run.source_format == "playwright-json")).one()
    junit_run = db.scalars(select(Run).where(Run.source_format == "junit")).one()

    expected = {
        "passed": summary["passed"] - 1,  # the flaky test is one of pytest's passed
        "flaky": 1,
        "failed": summary["failed"],
        "error": summary["error"],
        "skipped": summary["skipped"],
        "xfailed": summary["xfailed"],
        "xpassed": summary["xpassed"],
    }
    assert counts_of(plugin_run) == expected
    assert plugin_run.total == 11
    assert plugin_run.status == "failed"
    # pytest's JUnit XML writes a non-strict xpass as a plain pass: that one cannot be told.
    assert counts_of(junit_run) == {
        **expected,
        "passed": expected["passed"] + 1,
        "xpassed": 0,
    }

    plugin_tests = stored(db, plugin_run)
    assert plugin_tests["test_xfail"] == ("xfailed", ["xfailed"])
    assert plugin_tests["test_xpass"] == ("xpassed", ["xpassed"])
    assert plugin_tests["test_xpass_strict"] == ("failed", ["failed", "failed"])
    assert plugin_tests["test_fixture_error"] == ("error", ["error", "error"])
    assert plugin_tests["test_flaky"] == ("flaky", ["failed", "passed"])
    assert plugin_tests["test_broken"] == ("error", ["error"])
    assert sum(len(statuses) - 1 for _o, statuses in plugin_tests.values()) == summary["rerun"]

    junit_tests = stored(db, junit_run)
    assert junit_tests["test_xfail"][0] == "xfailed"
    assert junit_tests["test_fixture_error"][0] == "error"
    assert junit_tests["test_flaky"][0] == "flaky"
    # One identity for a test, whichever path it came by.
    assert set(junit_tests) == set(plugin_tests)

    # The API and the run page say the same words.
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        api = client.get(f"/api/test-runs/{plugin_run.id}").json()
        page = client.get(f"/runs/{plugin_run.id}", headers={"accept": "text/html"}).text
        errors = client.get(f"/api/test-runs/{plugin_run.id}/tests", params={"outcome": "error"})
    assert {k: v for k, v in api["counts"].items() if k in expected} == expected
    for label, count in (("Errors", 2), ("Xfailed", 1), ("Xpassed", 1)):
        assert f"{label} <strong>{count}</strong>" in page
    assert '<span class="badge o-xfailed">xfailed</span>' in page
    assert [t["outcome"] for t in errors.json()["items"]] == ["error", "error"]
