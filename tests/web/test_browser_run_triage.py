"""The run page's triage in a real browser (headless Chromium against a live server): the same
failure on two projects as one group, the filters, the screenshot lightbox, permalinks."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import Engine

from tests.fixtures.servers import LiveServer

from .conftest import BrowserPage, upload_zip

pytestmark = pytest.mark.browser


@pytest.fixture
def run_url(make_live_server: Callable[..., LiveServer], engine: Engine) -> str:
    del engine  # requested so that the shared database is emptied after the test
    server = make_live_server()
    with httpx.Client(base_url=server.url) as api:
        run_id = upload_zip(api, branch="main")
    return f"{server.url}/runs/{run_id}"


def test_the_same_failure_on_two_projects_is_one_group_with_the_failing_attempt_open(
    run_url: str, make_page: Callable[..., BrowserPage]
) -> None:
    view = make_page(viewport={"width": 1280, "height": 900})
    page = view.page
    page.goto(run_url)
    first = page.locator("li.result").first
    assert "failing expectation" in first.locator(".result__title").inner_text()
    assert "same error on 2 projects" in first.inner_text()
    assert first.locator(".instance").count() == 2
    # The first project's last failed attempt is open, its first attempt folded.
    attempts = first.locator(".instance").first.locator("li.attempt > details")
    assert attempts.count() == 2
    assert attempts.nth(0).get_attribute("open") is None
    assert attempts.nth(1).get_attribute("open") is not None
    # Coloured Expected/Received and the code frame are visible, the frame's marker red.
    shown = first.locator("li.attempt > details[open]").first
    received = shown.locator("pre.error .ansi-fg-1", has_text='"All good"').first
    assert received.is_visible()
    colour = received.evaluate("e => getComputedStyle(e).color")
    assert colour != shown.locator("pre.error").evaluate("e => getComputedStyle(e).color")
    assert shown.locator("pre.snippet").is_visible()
    # The markdown error context is shown inline, not only as a download.
    assert shown.locator("figure.textfile pre").is_visible()
    assert "# Instructions" in shown.locator("figure.textfile pre").inner_text()
    # The second project's copy stays folded: the page stays short.
    second = first.locator(".instance").nth(1).locator("li.attempt > details")
    assert all(second.nth(i).get_attribute("open") is None for i in range(second.count()))
    assert view.errors == []


def test_the_screenshot_opens_in_a_lightbox_and_closes_back_to_its_thumbnail(
    run_url: str, make_page: Callable[..., BrowserPage]
) -> None:
    view = make_page(viewport={"width": 1280, "height": 900})
    page = view.page
    page.goto(run_url)
    thumb = page.locator("li.result").first.locator("li.attempt > details[open] a.thumb").first
    thumb.scroll_into_view_if_needed()
    box = thumb.locator("img").bounding_box()
    assert box is not None and box["width"] <= 240 and box["height"] <= 150  # a thumbnail
    thumb.click()
    dialog = page.locator("dialog#lightbox")
    dialog.wait_for(state="visible")
    image = dialog.locator("img")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert "screenshot" in (image.get_attribute("alt") or "")
    assert page.url == run_url  # the page stayed; no navigation to the bare image
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.classList.contains('thumb')")
    assert view.errors == []


def test_filters_narrow_by_project_and_file_and_group_by_file(
    run_url: str, make_page: Callable[..., BrowserPage]
) -> None:
    view = make_page(viewport={"width": 1280, "height": 900})
    page = view.page
    page.goto(run_url)
    page.get_by_label("Browser / project").select_option("chromium-mobile")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    assert "browser=chromium-mobile" in page.url
    projects = page.locator("li.result .result__meta .tag").all_inner_texts()
    assert projects and set(projects) == {"chromium-mobile"}

    page.get_by_label("Tag").select_option("@smoke")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    titles = page.locator(".result__title").all_inner_texts()
    assert sorted(titles) == ["login works @smoke @regression", "passing test with steps"]
    assert set(page.locator("li.result .result__meta .tag").all_inner_texts()) == {
        "chromium-mobile"  # both filters hold
    }

    page.goto(run_url)
    page.get_by_label("Group by file").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    headings = page.locator("h3.file-heading code").all_inner_texts()
    assert len(headings) == len(set(headings)) >= 2  # each file once, its tests under it
    assert view.errors == []


def test_a_permalink_opens_that_one_result(
    run_url: str, make_page: Callable[..., BrowserPage]
) -> None:
    view = make_page()
    page = view.page
    page.goto(run_url)
    flaky = page.locator("li.result--flaky").first
    flaky.locator("summary").first.click()
    link = flaky.get_by_role("link", name="Link to this result").first
    href = link.get_attribute("href") or ""
    link.click()
    page.wait_for_url(re.compile(r"\?result=\d+#result-\d+$"))
    assert page.locator("li.result").count() == 1
    assert page.locator("li.result--flaky").count() == 1
    anchor = href.split("#", 1)[1]
    assert page.locator(f"#{anchor}").count() == 1
    assert view.errors == []
