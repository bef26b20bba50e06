"""Quarantine end to end with real inner pytest sessions (subprocesses, the plugin loaded through
its entry point) against a real Playdeck server: a quarantined test's failure leaves the session
green and is still recorded as a failure; any other failure fails it."""

from __future__ import annotations

from typing import Protocol

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Result, Run, Test

from .test_plugin_live import playdeck_lines, run_inner

pytest_plugins = ["pytester"]


class LiveServer(Protocol):
    url: str


SUITE = """
def test_payment_sandbox():
    assert "sandbox" == "up"

def test_home():
    pass

class TestCart:
    def test_total(self):
        assert {total}
"""


def _quarantine(server: str, db: Session, title: str) -> None:
    db.rollback()
    test_id = db.scalars(select(Test.id).where(Test.title == title)).one()
    db.rollback()  # hold no snapshot while the server writes
    response = httpx.put(
        f"{server}/api/tests/{test_id}/quarantine", json={"reason": "sandbox down, INC-42"}
    )
    assert response.status_code == 200, response.text


def _latest_outcomes(db: Session) -> dict[str, str]:
    db.rollback()
    run_id = db.scalars(select(Run.id).order_by(Run.id.desc())).first()
    rows = db.execute(
        select(Test.full_title, Result.outcome)
        .join(Test, Test.id == Result.test_id)
        .where(Result.run_id == run_id)
    ).all()
    db.rollback()
    return {title: outcome for title, outcome in rows}


def test_a_quarantined_failure_leaves_the_session_green_and_another_fails_it(
    pytester: pytest.Pytester, live_server: LiveServer, db: Session
) -> None:
    pytester.makepyfile(test_shop=SUITE.format(total="True"))
    args = (f"--playdeck-url={live_server.url}", "--playdeck-project=shop")

    first = run_inner(pytester, *args)
    assert first.ret == pytest.ExitCode.TESTS_FAILED  # nothing quarantined yet
    _quarantine(live_server.url, db, "test_payment_sandbox")

    green = run_inner(pytester, *args)
    assert green.ret == pytest.ExitCode.OK
    green.stdout.fnmatch_lines(["*1 failed, 2 passed*"])  # pytest still tells the truth
    assert any(
        "only quarantined tests failed, the session passes: test_shop.py::test_payment_sandbox"
        in line
        for line in playdeck_lines(green)
    )
    # ... and so does Playdeck: the failure is recorded as one.
    assert _latest_outcomes(db)["test_payment_sandbox"] == "failed"

    pytester.makepyfile(test_shop=SUITE.format(total="False"))
    red = run_inner(pytester, *args)
    assert red.ret == pytest.ExitCode.TESTS_FAILED  # TestCart::test_total is not quarantined
    assert any("quarantined failures (not counted)" in line for line in playdeck_lines(red))

    pytester.makepyfile(test_shop=SUITE.format(total="True"))
    ignored = run_inner(pytester, *args, "--playdeck-ignore-quarantine")
    assert ignored.ret == pytest.ExitCode.TESTS_FAILED


def test_an_unreadable_quarantine_is_announced_and_failures_fail(
    pytester: pytest.Pytester, live_server: LiveServer, db: Session
) -> None:
    """Quarantine applies to the very class-qualified names Playdeck stores; when the list
    cannot be read (a wrong key here), the session fails as without quarantine."""
    pytester.makepyfile(test_shop=SUITE.format(total="False"))
    args = (f"--playdeck-url={live_server.url}", "--playdeck-project=shop")
    run_inner(pytester, *args)
    _quarantine(live_server.url, db, "test_payment_sandbox")
    _quarantine(live_server.url, db, "test_total")
    assert run_inner(pytester, *args).ret == pytest.ExitCode.OK

    offline = run_inner(pytester, "--playdeck-url=http://127.0.0.1:9", "--playdeck-project=shop")
    assert offline.ret == pytest.ExitCode.TESTS_FAILED
    assert any("quarantine not applied" in line for line in playdeck_lines(offline))


BROWSER_SUITE = """
def test_checkout(browser_name):
    assert browser_name != "webkit", "webkit rounds the total"
"""


def test_a_quarantine_is_per_browser_for_pytest_playwright_tests(
    pytester: pytest.Pytester, live_server: LiveServer, db: Session
) -> None:
    # pytest-playwright's own parametrization (no browser launched): the browser is the
    # test's project, so quarantining webkit's test excuses webkit's failure only.
    pytester.makepyfile(test_shop=BROWSER_SUITE)
    args = (
        *("--browser", "chromium", "--browser", "webkit"),
        f"--playdeck-url={live_server.url}",
        "--playdeck-project=shop",
    )
    assert run_inner(pytester, *args).ret == pytest.ExitCode.TESTS_FAILED
    db.rollback()
    webkit = db.scalars(
        select(Test.id).where(Test.title == "test_checkout", Test.browser_project == "webkit")
    ).one()
    db.rollback()
    response = httpx.put(f"{live_server.url}/api/tests/{webkit}/quarantine", json={"reason": "x"})
    assert response.status_code == 200, response.text

    green = run_inner(pytester, *args)

    assert green.ret == pytest.ExitCode.OK
    assert any(
        "the session passes: test_shop.py::test_checkout[webkit]" in line
        for line in playdeck_lines(green)
    )
