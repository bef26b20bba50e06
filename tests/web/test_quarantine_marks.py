"""Quarantined tests marked where people look: the run page (a badge per result, the count in
the failure summary) and a project's tests (a badge per test, a "quarantined only" filter)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Project, Result, Test

from .conftest import MakeRun, case, get_page, parse

MARK = 'class="tag tag--warn quarantine-mark"'


def _test_id(db: Session, title: str, project: str = "demo") -> int:
    found = db.scalar(
        select(Test.id)
        .join(Project, Project.id == Test.project_id)
        .where(Test.title == title, Project.slug == project)
    )
    assert found is not None
    return found


def _quarantine(client: TestClient, test_id: int, reason: str, **extra: str) -> None:
    put = client.put(f"/api/tests/{test_id}/quarantine", json={"reason": reason, **extra})
    assert put.status_code == 200, put.text


def _results(html: str, db: Session, run_id: int) -> dict[str, str]:
    """Each result's ``<li>`` on the run page, by its test's title."""
    items = {}
    for title, result_id in db.execute(
        select(Test.title, Result.id)
        .join(Result, Result.test_id == Test.id)
        .where(Result.run_id == run_id)
    ):
        start = html.index(f'id="result-{result_id}"')
        items[title] = html[start : html.index("</details>", start)]
    return items


def _rows(html: str) -> dict[str, str]:
    """The tests list's rows, by the test's link."""
    return {parse(r).all("a")[0].attrs["href"]: r for r in html.split("<tr>")[2:]}


def test_run_page_marks_quarantined_results_with_their_reason_and_counts_them(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    run_id = make_run(
        [
            case("checkout", "failed", error="boom"),
            case("login", "failed", error="bang"),
            case("search", "timedout", error="slow"),
            case("home", "passed"),
        ]
    )
    _quarantine(client, _test_id(db, "checkout"), "payment <sandbox> is down")
    _quarantine(client, _test_id(db, "search"), "slow CI")
    _quarantine(client, _test_id(db, "home"), "watching it")

    response, page = get_page(client, f"/runs/{run_id}")
    results = _results(response.text, db, run_id)
    checkout = results["checkout"]
    assert MARK in checkout
    assert 'title="Quarantined: payment &lt;sandbox&gt; is down"' in checkout
    assert '<span class="sr-only">: payment &lt;sandbox&gt; is down</span>' in checkout
    assert MARK in results["home"] and MARK in results["search"]
    assert MARK not in results["login"]
    # home passed: only checkout's and search's failures are excused.
    assert "3 failed, 2 of them quarantined" in page.text


def test_run_page_without_quarantined_failures_says_nothing_of_quarantine(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    run_id = make_run([case("checkout", "failed", error="boom"), case("home", "passed")])
    _quarantine(client, _test_id(db, "home"), "watching it")
    response, page = get_page(client, f"/runs/{run_id}")
    assert "of them quarantined" not in page.text
    assert MARK in _results(response.text, db, run_id)["home"]


def test_a_lapsed_quarantine_is_not_marked(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    run_id = make_run([case("checkout", "failed", error="boom")])
    expires = datetime.now(UTC) + timedelta(days=1)
    _quarantine(client, _test_id(db, "checkout"), "sandbox", expires_at=expires.isoformat())
    response, page = get_page(client, f"/runs/{run_id}")
    assert MARK in response.text and "1 failed, 1 of them quarantined" in page.text
    assert "(lapses " in response.text  # the expiry is part of the badge's text
    with time_machine.travel(expires + timedelta(seconds=1)):
        response, page = get_page(client, f"/runs/{run_id}")
        assert MARK not in response.text and "quarantined" not in page.text
        response, page = get_page(client, "/projects/demo/tests")
        assert MARK not in response.text
        _response, page = get_page(client, "/projects/demo/tests?quarantined=1")
        assert "No test is quarantined now." in page.text


def test_project_tests_list_marks_quarantined_tests_and_filters_them(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    make_run([case("checkout", "failed"), case("login"), case("search")])
    checkout = _test_id(db, "checkout")
    _quarantine(client, checkout, "payment sandbox")

    response, page = get_page(client, "/projects/demo/tests")
    rows = _rows(response.text)
    assert MARK in rows[f"/tests/{checkout}"]
    assert "payment sandbox" in rows[f"/tests/{checkout}"]
    assert MARK not in rows[f"/tests/{_test_id(db, 'login')}"]
    assert page.all("input", id="quarantined", type="checkbox")

    response, page = get_page(client, "/projects/demo/tests?quarantined=1")
    assert list(_rows(response.text)) == [f"/tests/{checkout}"]
    assert page.all("input", id="quarantined", checked="")
    _response, page = get_page(client, "/projects/demo/tests?quarantined=1&q=login")
    assert "No matching test is quarantined now." in page.text


def test_another_projects_quarantine_does_not_mark_this_project(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    run_id = make_run([case("checkout", "failed", error="boom")])
    make_run([case("checkout", "failed", error="boom")], project="Other")
    _quarantine(client, _test_id(db, "checkout", project="other"), "theirs")

    response, page = get_page(client, f"/runs/{run_id}")
    assert MARK not in response.text and "quarantined" not in page.text
    response, _page = get_page(client, "/projects/demo/tests")
    assert MARK not in response.text and "theirs" not in response.text
    response, _page = get_page(client, "/projects/demo/tests?quarantined=1")
    assert _rows(response.text) == {}


def test_a_failure_on_several_browsers_marks_only_the_quarantined_browser(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    run_id = make_run(
        [
            case("checkout", "failed", error="boom", browser="chromium"),
            case("checkout", "failed", error="boom", browser="firefox"),
        ]
    )
    chromium = db.scalar(select(Test.id).where(Test.browser_project == "chromium"))
    assert chromium is not None
    _quarantine(client, chromium, "chromium only")
    response, page = get_page(client, f"/runs/{run_id}")
    assert "same error on 2 projects" in page.text
    group = response.text.split('<li class="result ', 1)[1]
    summary = group.split("<summary>", 1)[1].split("</summary>", 1)[0]
    assert "checkout" in summary
    assert MARK not in summary  # not every browser's test is quarantined
    heads = response.text.split('<h3 class="instance__head">')[1:]
    marked = [head.split("</h3>", 1)[0] for head in heads]
    assert [MARK in head for head in marked] == ["chromium" in head for head in marked]
    assert "2 failed, 1 of them quarantined" in page.text
