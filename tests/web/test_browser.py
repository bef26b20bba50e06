"""The pages in a real browser: headless Chromium (Debian's) against a real server on a port."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import Engine

from playdeck.web.headers import PAGE_CSP
from tests.fixtures.servers import LiveServer

from .conftest import XSS_TITLE, BrowserPage, submit_report, upload_zip

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Site:
    url: str
    zip_run: int
    json_run: int


@pytest.fixture
def site(make_live_server: Callable[..., LiveServer], engine: Engine) -> Iterator[Site]:
    """A live server holding the Playwright fixture run twice: zipped (with screenshots) and as
    plain JSON (with the XSS title). ``engine`` is requested so that the shared database is
    emptied after the test (tests/conftest.py's cleanup reads it)."""
    del engine
    server = make_live_server()
    with httpx.Client(base_url=server.url) as api:
        zip_run = upload_zip(api, branch="main")
        json_run = submit_report(api)
    yield Site(url=server.url, zip_run=zip_run, json_run=json_run)


def test_browse_from_overview_to_a_failure_its_screenshot_and_history(
    site: Site, make_page: Callable[..., BrowserPage]
) -> None:
    view = make_page()
    page = view.page
    response = page.goto(site.url + "/")
    assert response is not None and response.ok
    page.get_by_role("link", name="web", exact=True).click()
    page.wait_for_url(re.compile(r"/projects/web$"))
    page.locator(f'table a[href="/runs/{site.zip_run}"]').click()
    page.wait_for_url(re.compile(rf"/runs/{site.zip_run}$"))

    first = page.locator("li.result").first
    assert "failed" in (first.get_attribute("class") or "")
    assert "failing expectation" in first.locator(".result__title").inner_text()
    screenshot = first.locator("li.attempt > details[open] img").first  # the failed attempt's
    screenshot.scroll_into_view_if_needed()
    screenshot.wait_for(state="visible")
    loaded = page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=screenshot.element_handle()
    )
    assert loaded
    assert first.locator("a[download]", has_text="trace.zip").count() >= 1

    first.get_by_role("link", name="History of this test").first.click()
    page.wait_for_url(re.compile(r"/tests/\d+$"))
    assert "failing expectation" in page.locator("h1").inner_text()
    cells = page.locator("ol.strip a")
    assert cells.count() == 2  # both runs of the fixture
    cells.last.click()
    page.wait_for_url(re.compile(r"/runs/\d+$"))
    assert view.errors == []


def test_report_supplied_html_is_shown_as_text(
    site: Site, make_page: Callable[..., BrowserPage]
) -> None:
    view = make_page()
    page = view.page
    page.goto(f"{site.url}/runs/{site.json_run}?q=bold")
    title = page.locator(".result__title").first
    assert title.inner_text() == XSS_TITLE
    assert page.locator("b").count() == 0
    assert page.evaluate("document.querySelectorAll('main b, main script').length") == 0
    page.goto(f"{site.url}/projects/web/tests?q=bold")
    assert XSS_TITLE in page.locator("main").inner_text()
    assert page.locator("b").count() == 0
    assert view.errors == []


def test_every_page_has_the_csp_runs_its_script_and_logs_no_errors(
    site: Site, make_page: Callable[..., BrowserPage]
) -> None:
    view = make_page(locale="en-US", timezone_id="America/New_York")
    page = view.page
    urls = [
        "/",
        "/projects",
        "/projects/web",
        f"/runs/{site.zip_run}",
        "/projects/web/tests",
        "/projects/web/flaky",
        "/projects/web/failures",
        f"/runs/{site.zip_run}/compare",
    ]
    page.goto(f"{site.url}/runs/{site.zip_run}")
    urls.append(
        page.locator("a", has_text="History of this test").first.get_attribute("href") or ""
    )
    for url in urls:
        response = page.goto(site.url + url)
        assert response is not None and response.status == 200, url
        assert response.headers["content-security-policy"] == PAGE_CSP
        # The script localised the times: it ran under the CSP.
        times = page.locator("time[datetime]")
        assert times.count() > 0, url
        assert "UTC" not in times.first.inner_text(), url
        assert times.first.get_attribute("title"), url
    assert view.errors == []


def test_the_404_page_is_a_page(site: Site, make_page: Callable[..., BrowserPage]) -> None:
    view = make_page()
    response = view.page.goto(f"{site.url}/runs/999999")
    assert response is not None and response.status == 404
    assert "Run not found" in view.page.locator("main").inner_text()
    view.page.get_by_role("link", name="Go to the overview").click()
    view.page.wait_for_url(site.url + "/")


def test_pages_fit_a_phone_screen_without_horizontal_scrolling(
    site: Site, make_page: Callable[..., BrowserPage]
) -> None:
    view = make_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page = view.page
    for url in [
        "/",
        "/projects",
        "/projects/web",
        f"/runs/{site.zip_run}",
        f"/runs/{site.json_run}?q=bold",
        "/projects/web/tests",
        "/projects/web/flaky",
        "/projects/web/failures",
        f"/runs/{site.zip_run}/compare",
    ]:
        page.goto(site.url + url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (url, overflow)
    assert view.errors == []


def test_keyboard_users_can_skip_to_content_and_see_focus(
    site: Site, make_page: Callable[..., BrowserPage]
) -> None:
    page = make_page().page
    page.goto(site.url + "/projects")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_creating_a_project_in_the_browser(
    site: Site, make_page: Callable[..., BrowserPage]
) -> None:
    view = make_page()
    page = view.page
    page.goto(site.url + "/projects")
    page.get_by_label("Name", exact=True).fill("Checkout <service>")
    page.get_by_role("button", name="Create project").click()
    page.wait_for_url(re.compile(r"/projects/checkout-service$"))
    assert page.locator("h1").inner_text() == "Checkout <service>"
    assert "Project created." in page.locator(".notices").inner_text()
    assert "No runs yet" in page.locator("main").inner_text()
    assert view.errors == []
