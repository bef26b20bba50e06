"""Playwright's own Trace Viewer, served by Playdeck, opens a real trace (recorded by
Playwright 1.65.1 for ``tests/data/playwright/report.zip``) in real Chromium, offline; the trace
runs on the content origin, where the reader's Playdeck session is out of reach."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Frame, Page
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.models import Attachment, Attempt, Result, Test
from tests.fixtures.accounts import PASSWORD, auth_overrides, create_account

from .conftest import CHROMIUM, CHROMIUM_ARGS, PLAYWRIGHT_ZIP, BrowserPage

pytestmark = pytest.mark.browser


def _with_content_origin(server: Any) -> str:
    """Point the server's content origin at ``localhost`` (Playdeck itself is at 127.0.0.1):
    another host, and a secure context, like an HTTPS content domain."""
    port = server.url.rsplit(":", 1)[1]
    server.settings.public_url = server.url
    server.settings.content_url = f"http://localhost:{port}"
    return str(server.settings.content_url)


def _upload(api: httpx.Client) -> int:
    with PLAYWRIGHT_ZIP.open("rb") as handle:
        response = api.post(
            "/api/test-runs/upload",
            data={"projectName": "web"},
            files={"file": ("report.zip", handle, "application/zip")},
        )
    assert response.status_code == 201, response.text
    run_id: int = response.json()["testRunId"]
    return run_id


def _failing_trace(db: Session, run_id: int) -> int:
    """The trace of the first attempt of "failing expectation" on the chromium project."""
    ids = db.scalars(
        select(Attachment.id)
        .join(Attempt, Attempt.id == Attachment.attempt_id)
        .join(Result, Result.id == Attempt.result_id)
        .join(Test, Test.id == Result.test_id)
        .where(
            Attachment.run_id == run_id,
            Attachment.name == "trace",
            Test.title == "failing expectation",
            Test.browser_project == "chromium",
        )
        .order_by(Attachment.id)
    ).all()
    return ids[0]


def _open_viewer(page: Page) -> None:
    """From Playdeck's trace page to the viewer, until it lists the trace's actions."""
    page.locator("#trace-open").click()
    page.locator(".action-title").first.wait_for(timeout=30_000)


def _snapshot_frames(page: Page) -> list[Frame]:
    for _ in range(100):
        found = [f for f in page.frames if "/snapshot/" in f.url]
        if found:
            return found
        page.wait_for_timeout(100)
    return []


def _offline(page: Page, hosts: list[str]) -> list[str]:
    """Refuse every request to a host other than ``hosts``: the viewer must need no internet."""
    refused: list[str] = []

    def route(r: Any) -> None:
        if any(r.request.url.startswith(h) for h in hosts):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.context.route("**/*", route)
    return refused


def test_the_viewer_opens_a_real_trace_from_the_run_page_and_shows_its_actions(
    make_live_server: Callable[..., Any],
    make_page: Callable[..., BrowserPage],
    db: Session,
) -> None:
    server = make_live_server()
    content = _with_content_origin(server)
    with httpx.Client(base_url=server.url) as api:
        run_id = _upload(api)
    trace_id = _failing_trace(db, run_id)

    browser_page = make_page()
    page = browser_page.page
    refused = _offline(page, [server.url, content])
    page.goto(f"{server.url}/runs/{run_id}")
    link = page.locator(f'a[href="/traces/{trace_id}"]')
    # The run page folds every attempt but the failing one: open the trace's attempt first.
    if not link.is_visible():
        link.locator("xpath=ancestor::details[1]/summary").click()
    link.click()
    page.wait_for_url(f"{server.url}/traces/{trace_id}")
    assert "Playwright trace" in page.locator("#user-content-banner").inner_text()
    assert "recorded by Playwright 1.65.1" in page.locator("#user-content-banner").inner_text()

    _open_viewer(page)
    assert page.url.startswith(f"{content}/trace-viewer/")
    titles = page.locator(".action-title").all_inner_texts()
    # The test's own actions, as Playwright recorded them.
    assert any("Set content" in t for t in titles), titles
    assert any("toHaveText" in t for t in titles), titles
    page.locator(".action-title", has_text="toHaveText").first.click()
    page.get_by_text("Something else").first.wait_for()  # the failed expectation's details
    assert refused == []


def test_a_trace_runs_where_the_readers_session_is_out_of_reach(
    make_live_server: Callable[..., Any],
    make_page: Callable[..., BrowserPage],
    engine: Engine,
    db: Session,
) -> None:
    server = make_live_server(**auth_overrides())
    content = _with_content_origin(server)
    create_account(engine, server.settings, "alice", role="admin")
    with httpx.Client(base_url=server.url) as api:
        token = api.post(
            "/api/auth/login", json={"username": "alice", "password": PASSWORD}
        ).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        run_id = _upload(api)
    trace_id = _failing_trace(db, run_id)

    page = make_page().page
    page.goto(f"{server.url}/login")
    page.get_by_label("Username or email").fill("alice")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert any(c["name"] == "playdeck_session" for c in page.context.cookies(server.url))

    page.goto(f"{server.url}/traces/{trace_id}")
    _open_viewer(page)
    frame = page.main_frame
    # What the trace's pages could reach: no cookie of Playdeck's; their own origin (the
    # content host, reached past the viewer's service worker) sees an anonymous caller;
    # Playdeck's origin refuses them (CORS).
    assert frame.evaluate("document.cookie") == ""
    me = frame.evaluate(
        "fetch('/api/auth/me', {credentials: 'include', headers: {'x-pw-serviceworker': 'skip'}})"
        ".then(r => r.status)"
    )
    assert me == 401
    cross = frame.evaluate(
        "u => fetch(u + '/api/auth/me', {credentials: 'include'})"
        ".then(r => 'read ' + r.status, e => 'refused')",
        server.url,
    )
    assert cross == "refused"
    # The snapshot frames, where the recorded pages render, are on the content origin too.
    page.locator(".action-title", has_text="Set content").first.click()
    snapshots = _snapshot_frames(page)
    assert snapshots and all(f.url.startswith(content) for f in snapshots)
    assert all(f.evaluate("document.cookie") == "" for f in snapshots)


def test_without_a_content_origin_the_page_explains_instead_of_running_the_trace(
    make_live_server: Callable[..., Any],
    make_page: Callable[..., BrowserPage],
    db: Session,
) -> None:
    server = make_live_server()
    with httpx.Client(base_url=server.url) as api:
        run_id = _upload(api)
    trace_id = _failing_trace(db, run_id)
    browser_page = make_page()
    page = browser_page.page
    page.goto(f"{server.url}/traces/{trace_id}")
    notice = page.locator("#trace-unavailable")
    assert "needs a separate content origin" in notice.inner_text()
    assert "PLAYDECK_CONTENT_URL" in notice.inner_text()
    assert page.locator("iframe").count() == 0
    assert browser_page.errors == []


def test_on_plain_http_away_from_localhost_the_page_explains_why_there_is_no_viewer(
    make_live_server: Callable[..., Any],
    make_page: Callable[..., BrowserPage],
    browser: Browser,
    db: Session,
) -> None:
    """Names other than the loopback (``playdeck.test``, ``content.test``, resolved to it by
    this Chromium only) over plain HTTP are no secure context: the page says so instead of
    linking to a viewer that could not start, and indeed there it has no service workers."""
    server = make_live_server()
    port = server.url.rsplit(":", 1)[1]
    with httpx.Client(base_url=server.url) as api:
        run_id = _upload(api)
    trace_id = _failing_trace(db, run_id)
    server.settings.public_url = f"http://playdeck.test:{port}"
    server.settings.content_url = f"http://content.test:{port}"
    rules = "MAP playdeck.test 127.0.0.1, MAP content.test 127.0.0.1"
    other = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"],
    )
    try:
        page = other.new_page()
        page.goto(f"http://playdeck.test:{port}/traces/{trace_id}")
        notice = page.locator("#trace-unavailable")
        assert "needs a secure context" in notice.inner_text()
        assert page.locator("#trace-open").count() == 0
        page.goto(f"http://content.test:{port}/trace-viewer/")  # any page of that origin
        assert page.evaluate("[window.isSecureContext, 'serviceWorker' in navigator]") == [
            False,
            False,
        ]
    finally:
        other.close()
