"""``/`` overview, ``/projects`` (list, search, create) and ``/projects/{slug}`` (runs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from playdeck.auth.dependencies import get_principal
from playdeck.auth.principal import CredentialKind, GlobalRole, Principal
from playdeck.models import Project, Run, Test
from playdeck.outcomes import RunStatus
from playdeck.projects.schemas import ProjectCreate
from playdeck.projects.service import create_project
from playdeck.settings import Settings
from playdeck.web.overview import PROJECTS_PER_PAGE as OVERVIEW_PAGE
from playdeck.web.projects import RUNS_PER_PAGE

from .conftest import HTML, MakeRun, case, get_page, parse, table_links

OUTSIDER = Principal(
    user_id=4242, username="outsider", role=GlobalRole.USER, credential=CredentialKind.SESSION
)


def _next_link(page_links: list[str]) -> str:
    found = [link for link in page_links if "cursor=" in link]
    assert found, "no next-page link"
    return found[0]


def test_fresh_install_overview_explains_how_to_send_a_first_run(client: TestClient) -> None:
    _response, page = get_page(client, "/")
    assert "No test results yet" in page.text
    text = page.text
    assert 'curl -X POST "http://testserver/api/test-runs/submit?projectName=my-project"' in text
    assert "playdeck upload report.json test-results/ --server http://testserver" in text
    assert "pytest --playdeck-url http://testserver --playdeck-project my-project" in text
    assert "@playdeck/playwright-reporter" in text
    assert "playdeck demo" in text


def test_the_commands_shown_name_the_public_url_when_one_is_set(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> None:
    client = make_client(make_settings(public_url="https://playdeck.example.com/ci/"))
    overview = get_page(client, "/")[1].text
    assert "--server https://playdeck.example.com/ci --project" in overview
    assert "http://testserver" not in overview
    client.post("/api/projects", json={"name": "Shop"})
    project = get_page(client, "/projects/shop")[1].text
    assert "pytest --playdeck-url https://playdeck.example.com/ci " in project
    assert "http://testserver" not in project


def test_overview_shows_each_project_with_its_latest_run_and_sparkline(
    client: TestClient, make_run: MakeRun
) -> None:
    make_run([case("a"), case("b")], project="Shop", started_at=30, branch="main")
    latest = make_run(
        [case("a"), case("b", "failed"), case("c", "flaky")],
        project="Shop",
        started_at=1,
        branch="feature/cart",
    )
    make_run([case("a")], project="Api", started_at=2)
    create_empty = client.post("/projects", data={"name": "Empty one"}, follow_redirects=False)
    assert create_empty.status_code == 303

    response, _page = get_page(client, "/")
    cards = response.text.split('class="card project-card')[1:]
    assert [parse(c).all("a")[0].attrs["href"] for c in cards] == [
        "/projects/api",
        "/projects/empty-one",
        "/projects/shop",
    ]
    shop = cards[2]
    assert f'href="/runs/{latest}"' in shop
    assert "feature/cart" in shop
    assert 'class="badge o-failed"' in shop
    assert "66.7%" in shop  # passed + flaky of the latest run, over 3
    assert 'class="chart sparkline"' in shop
    assert "Pass rate, last 2 runs" in parse(shop).text
    assert "No runs yet" in parse(cards[1]).text
    assert "<time datetime=" in shop


def test_overview_counts_a_running_run_as_running_not_failed(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    make_run([case("a", "failed")], project="Shop", started_at=3)
    make_run([case("a")], project="Shop", started_at=2)
    running = make_run([case("a")], project="Shop", started_at=1)
    make_run([case("a")], project="Api", started_at=1)
    db.execute(update(Run).where(Run.id == running).values(status=RunStatus.RUNNING.value))
    db.commit()

    response, _page = get_page(client, "/")
    captions = {
        parse(card).all("a")[0].attrs["href"]: parse(card).text
        for card in response.text.split('class="card project-card')[1:]
    }
    assert "1 failed · 1 running" in captions["/projects/shop"]
    assert "all passed" in captions["/projects/api"]


def test_overview_pages_through_many_projects(client: TestClient, db: Session) -> None:
    for i in range(OVERVIEW_PAGE + 3):
        create_project(db, data=ProjectCreate(name=f"Project {i:02d}"))
    db.commit()
    _response, page = get_page(client, "/")
    assert len(page.all("li", **{"class": "card project-card"})) == OVERVIEW_PAGE
    _response, second = get_page(client, _next_link(page.links()))
    assert len(second.all("li", **{"class": "card project-card"})) == 3
    assert "/" in second.links()  # back to the first page
    assert "First page" in second.text


def test_projects_list_searches_by_name(client: TestClient, db: Session) -> None:
    for name in ("Alpha shop", "Beta api", "alphabet"):
        create_project(db, data=ProjectCreate(name=name))
    db.commit()
    _response, page = get_page(client, "/projects?q=ALPHA")
    links = page.links()
    assert "/projects/alpha-shop" in links and "/projects/alphabet" in links
    assert "/projects/beta-api" not in links
    _response, page = get_page(client, "/projects?q=zzz")
    assert "No project name contains “zzz”" in page.text
    _response, page = get_page(client, "/projects?q=")
    assert "/projects/beta-api" in page.links()


def test_projects_list_pages(client: TestClient, db: Session) -> None:
    for i in range(52):
        create_project(db, data=ProjectCreate(name=f"P{i:02d}"))
    db.commit()
    _response, page = get_page(client, "/projects")
    assert "/projects/p49" in page.links() and "/projects/p50" not in page.links()
    _response, page = get_page(client, _next_link(page.links()))
    assert {"/projects/p50", "/projects/p51"} <= set(page.links())


def test_creating_a_project_redirects_to_it_with_a_notice_and_first_run_commands(
    client: TestClient, db: Session
) -> None:
    response = client.post(
        "/projects",
        data={"name": "Mobile app", "description": "iOS <and> Android", "csrf_token": ""},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/projects/mobile-app"
    project = db.query(Project).filter_by(slug="mobile-app").one()
    assert project.description == "iOS <and> Android"

    response, page = get_page(client, "/projects/mobile-app")
    assert "Project created." in page.text
    assert "No runs yet" in page.text
    assert "--playdeck-project 'Mobile app'" in page.text  # shell-quoted
    assert "projectName=Mobile%20app" in page.text
    assert "iOS <and> Android" in page.text and "<and>" not in response.text
    # The notice shows once.
    _response, again = get_page(client, "/projects/mobile-app")
    assert "Project created." not in again.text


def test_creating_a_duplicate_or_blank_project_shows_the_form_again_with_the_reason(
    client: TestClient,
) -> None:
    assert (
        client.post("/projects", data={"name": "Shop"}, follow_redirects=False).status_code == 303
    )
    response = client.post("/projects", data={"name": "Shop", "description": "x"}, headers=HTML)
    assert response.status_code == 409
    page = parse(response.text)
    assert "A project with this name already exists" in page.text
    assert page.all("input", name="name", value="Shop")
    response = client.post("/projects", data={"name": "   "}, headers=HTML)
    assert response.status_code == 422
    assert "Name: must not be blank" in parse(response.text).text


def test_shell_metacharacters_in_a_project_name_stay_one_argument(client: TestClient) -> None:
    client.post("/projects", data={"name": "x'; rm -rf ~; echo '"}, follow_redirects=False)
    _response, page = get_page(client, "/projects/x-rm-rf-echo")
    assert "--playdeck-project 'x'\"'\"'; rm -rf ~; echo '\"'\"''" in page.text


def test_project_page_lists_runs_with_counts_branch_commit_and_charts(
    client: TestClient, make_run: MakeRun
) -> None:
    run = make_run(
        [case("a"), case("b", "failed"), case("c", "flaky"), case("d", "skipped")],
        branch="main",
        commit_sha="0123456789abcdef",
        name="nightly",
        duration_ms=125_000,
    )
    response, page = get_page(client, "/projects/demo")
    row = response.text.split("<tbody>")[1].split("</tr>")[0]
    assert f'href="/runs/{run}"' in row
    assert "nightly" in row and 'class="badge o-failed"' in row
    assert "01234567" in row and 'title="0123456789abcdef"' in row
    assert "2m 05s" in row
    assert 'class="chart counts-bar"' in row
    assert 'class="chart bars"' in response.text
    assert 'class="chart line-chart"' in response.text
    assert page.all("option", value="main")  # the branch filter knows the project's branches


@pytest.fixture
def many_runs(make_run: MakeRun) -> list[int]:
    """35 runs: every 5th failed and on a feature branch, one per hour, newest last."""
    ids = []
    for i in range(35):
        failing = i % 5 == 0
        ids.append(
            make_run(
                [case("a", "failed" if failing else "passed")],
                started_at=datetime(2025, 3, 1, tzinfo=UTC) + timedelta(hours=i),
                branch="feature" if failing else "main",
            )
        )
    return ids


def _run_links(page_links: list[str]) -> list[int]:
    runs = [int(link.removeprefix("/runs/")) for link in page_links if link.startswith("/runs/")]
    return list(dict.fromkeys(runs))


def _table_runs(client: TestClient, url: str) -> tuple[list[int], list[str]]:
    """The runs of the table (the charts above it link runs too), and the page's links."""
    response, page = get_page(client, url)
    return _run_links(table_links(response.text)), page.links()


def test_project_runs_are_paginated_newest_first(client: TestClient, many_runs: list[int]) -> None:
    newest_first = list(reversed(many_runs))
    first, links = _table_runs(client, "/projects/demo")
    assert first == newest_first[:RUNS_PER_PAGE]
    second, links = _table_runs(client, _next_link(links))
    assert second == newest_first[RUNS_PER_PAGE:]
    assert not [link for link in links if "cursor=" in link]  # last page: no next link
    assert "/projects/demo" in links  # first page


def test_project_runs_filter_by_branch_status_and_dates(
    client: TestClient, many_runs: list[int]
) -> None:
    failing = list(reversed([run for i, run in enumerate(many_runs) if i % 5 == 0]))

    def table(url: str) -> list[int]:
        return _table_runs(client, url)[0]

    assert table("/projects/demo?branch=feature") == failing
    assert table("/projects/demo?status=failed&branch=") == failing
    assert table("/projects/demo?status=passed&branch=feature") == []
    # 2025-03-01 00:00 .. 23:00 are the first 24 runs; "to" is inclusive.
    assert table("/projects/demo?since=2025-03-01&until=2025-03-01") == list(
        reversed(many_runs[:24])
    )
    assert table("/projects/demo?since=2025-03-02") == list(reversed(many_runs[24:]))
    _response, page = get_page(client, "/projects/demo?branch=nope")
    assert "No runs match these filters." in page.text
    assert "No runs yet" not in page.text


def test_project_runs_refuse_a_from_date_after_the_to_date(
    client: TestClient, make_run: MakeRun
) -> None:
    make_run([case("a")])
    _response, page = get_page(client, "/projects/demo?since=2025-03-02&until=2025-03-01", 422)
    assert "since must be before until" in page.text


def test_project_page_empty_filters_mean_no_filter(client: TestClient, make_run: MakeRun) -> None:
    run = make_run([case("a")])
    _response, page = get_page(client, "/projects/demo?branch=&status=&since=&until=")
    assert f"/runs/{run}" in page.links()


@pytest.fixture
def outsider(client: TestClient) -> Iterator[TestClient]:
    """The client, signed in as a plain user who is a member of no project."""
    client.app.dependency_overrides[get_principal] = lambda: OUTSIDER  # type: ignore[attr-defined]
    yield client
    client.app.dependency_overrides.clear()  # type: ignore[attr-defined]


def test_projects_hidden_from_the_viewer_are_404_pages(
    outsider: TestClient, make_run: MakeRun, db: Session
) -> None:
    run = make_run([case("a", "failed")])
    test_id = db.scalar(select(Test.id))
    _response, page = get_page(outsider, "/")
    assert "/projects/demo" not in page.links()
    _response, page = get_page(outsider, "/projects")
    assert "/projects/demo" not in page.links()
    pages = ["/projects/demo", "/projects/demo/tests", "/projects/demo/flaky"]
    for url in [*pages, f"/runs/{run}", f"/tests/{test_id}"]:
        _response, page = get_page(outsider, url, status=404)
        assert "not found" in page.text.lower()


def test_cursor_links_keep_the_filters(client: TestClient, many_runs: list[int]) -> None:
    del many_runs
    _response, page = get_page(client, "/projects/demo?since=2025-03-01&status=")
    query = parse_qs(urlsplit(_next_link(page.links())).query)
    assert query["since"] == ["2025-03-01"]
    assert "status" not in query
    assert query["cursor"]


def test_a_user_in_no_project_is_told_to_ask_an_admin(
    outsider: TestClient, make_run: MakeRun
) -> None:
    make_run([case("a")])
    _response, page = get_page(outsider, "/")
    assert "You are not a member of any project yet" in page.text
    assert "Ask an administrator" in page.text and "outsider" in page.text
    assert "playdeck demo" not in page.text
    _response, page = get_page(outsider, "/projects")
    assert "You are not a member of any project yet" in page.text


def test_project_charts_follow_the_page_filters_and_have_axes(
    client: TestClient, make_run: MakeRun
) -> None:
    make_run([case("a", "failed")], started_at=30, branch="main")
    make_run([case("a")], started_at=20, branch="main")
    make_run([case("a")], started_at=10, branch="feat")
    response, page = get_page(client, "/projects/demo?status=passed")
    bars = response.text.split('class="chart bars"', 1)[1].split("</svg>", 1)[0]
    assert bars.count("<title>Run #") == 2  # the failed run is filtered out, as in the table
    assert not page.all("svg", role="group") and "<a " not in bars
    assert "tests" in response.text.split('class="plot__y"', 1)[1].split("</div>", 1)[0]
    label = [s.attrs["aria-label"] for s in page.all("svg") if "bars" in s.attrs.get("class", "")]
    assert "(filtered)" in label[0] and "0 with failures" in label[0]
    response, _page = get_page(client, "/projects/demo?branch=feat")
    bars = response.text.split('class="chart bars"', 1)[1].split("</svg>", 1)[0]
    assert bars.count("<title>Run #") == 1
