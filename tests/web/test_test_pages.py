"""``/projects/{slug}/tests``, ``/tests/{id}`` and ``/projects/{slug}/flaky``."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Test
from playdeck.web.tests import STRIP_RESULTS, TESTS_PER_PAGE

from .conftest import MakeRun, case, get_page, parse, table_links


def _test_id(db: Session, title: str) -> int:
    found = db.scalar(select(Test.id).where(Test.title == title))
    assert found is not None
    return found


def test_project_tests_list_shows_last_outcome_and_flake_rate(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    make_run([case("search", "flaky"), case("login")], started_at=5)
    make_run([case("search", "passed"), case("login", "failed")], started_at=1)
    response, page = get_page(client, "/projects/demo/tests")
    rows = {parse(r).all("a")[0].attrs["href"]: r for r in response.text.split("<tr>")[2:]}
    login = rows[f"/tests/{_test_id(db, 'login')}"]
    search = rows[f"/tests/{_test_id(db, 'search')}"]
    assert 'class="badge o-failed"' in login  # its latest outcome
    assert 'class="badge o-passed"' in search
    assert "50%" in search  # one flaky result in two runs
    assert 'class="chart rate"' in search
    assert "(30 days)" in page.text


def test_project_tests_search_and_pagination(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    make_run([case(f"t{i:02d}") for i in range(TESTS_PER_PAGE + 2)] + [case("special one")])
    _response, page = get_page(client, "/projects/demo/tests?q=SPECIAL")
    assert [link for link in page.links() if link.startswith("/tests/")] == [
        f"/tests/{_test_id(db, 'special one')}"
    ]
    _response, page = get_page(client, "/projects/demo/tests?q=zzz")
    assert "No test title or file contains “zzz”" in page.text
    _response, page = get_page(client, "/projects/demo/tests")
    first = [link for link in page.links() if link.startswith("/tests/")]
    assert len(first) == TESTS_PER_PAGE
    next_url = next(link for link in page.links() if "cursor=" in link)
    _response, page = get_page(client, next_url)
    second = [link for link in page.links() if link.startswith("/tests/")]
    assert len(second) == 3 and not set(first) & set(second)


def test_test_page_shows_history_strip_durations_and_recent_errors(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    outcomes = ["passed", "failed", "flaky", "passed", "failed", "skipped"]
    runs = [
        make_run(
            [
                case(
                    "cart", outcome, duration_ms=100 * (i + 1), error="Boom <x>" if i == 1 else None
                )
            ],
            started_at=len(outcomes) - i,
            branch="main",
        )
        for i, outcome in enumerate(outcomes)
    ]
    response, page = get_page(client, f"/tests/{_test_id(db, 'cart')}")
    strip = parse(response.text.split('<ol class="strip"')[1].split("</ol>")[0])
    assert [a.attrs["href"] for a in strip.all("a")] == [f"/runs/{r}" for r in runs]  # oldest first
    assert [a.attrs["class"] for a in strip.all("a")] == [f"cell o-{o}" for o in outcomes]
    assert "failed in run" in strip.all("a")[1].attrs["title"]
    assert 'class="chart line-chart"' in response.text
    errors = response.text.split("Most recent errors")[1].split("</section>")[0]
    # Newest first, each distinct message once, escaped.
    assert errors.index("cart failed") < errors.index("Boom &lt;x&gt;")
    assert "longest 600 ms" in page.text
    assert table_links(response.text) == [f"/runs/{r}" for r in reversed(runs)]


def test_test_history_table_pages_beyond_the_strip(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    runs = [make_run([case("t")], started_at=200 - i) for i in range(STRIP_RESULTS + 3)]
    response, page = get_page(client, f"/tests/{_test_id(db, 't')}")
    strip = response.text.split('<ol class="strip"')[1].split("</ol>")[0]
    assert strip.count("<a ") == STRIP_RESULTS
    next_url = next(link for link in page.links() if "cursor=" in link)
    response, page = get_page(client, next_url)
    assert table_links(response.text) == [f"/runs/{r}" for r in reversed(runs[:3])]
    strip = response.text.split('<ol class="strip"')[1].split("</ol>")[0]
    assert strip.count("<a ") == STRIP_RESULTS  # the strip stays on the latest results


def test_flaky_page_ranks_tests_over_the_chosen_window(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    make_run([case("recent", "flaky"), case("old", "passed"), case("steady")], started_at=24 * 2)
    make_run([case("recent", "flaky"), case("old", "passed"), case("steady")], started_at=24 * 3)
    make_run([case("recent", "passed"), case("old", "flaky"), case("steady")], started_at=24 * 20)
    recent, old = _test_id(db, "recent"), _test_id(db, "old")

    def ranked(url: str) -> list[str]:
        return table_links(get_page(client, url)[0].text)

    assert ranked("/projects/demo/flaky?days=7") == [f"/tests/{recent}"]
    assert ranked("/projects/demo/flaky?days=30") == [f"/tests/{recent}", f"/tests/{old}"]
    assert ranked("/projects/demo/flaky") == [f"/tests/{recent}", f"/tests/{old}"]  # 30 by default
    _response, page = get_page(client, "/projects/demo/flaky?days=7")
    current = [a.attrs["href"] for a in page.all("a") if a.attrs.get("aria-current") == "page"]
    assert "/projects/demo/flaky?days=7" in current
    windows = {a.attrs["href"] for a in page.all("a") if "days=" in a.attrs.get("href", "")}
    assert {f"/projects/demo/flaky?days={d}" for d in (7, 14, 30, 90)} <= windows
    _response, page = get_page(client, "/projects/demo/flaky?days=1")
    assert "No flaky tests in the last 1 days" in page.text
    get_page(client, "/projects/demo/flaky?days=0", status=422)


def test_flaky_page_offers_more_when_the_list_is_full(
    client: TestClient, make_run: MakeRun
) -> None:
    make_run([case(f"t{i}", "flaky") for i in range(3)])
    _response, page = get_page(client, "/projects/demo/flaky?limit=2")
    assert "/projects/demo/flaky?limit=52" in page.links()
    _response, page = get_page(client, "/projects/demo/flaky?limit=3")
    assert not [link for link in page.links() if "limit=" in link]
