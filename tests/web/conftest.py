"""Fixtures for the web pages: runs stored through the real ingest, HTML helpers, and a real
headless Chromium (Debian's) for the browser tests."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine

from playdeck.settings import Settings
from playdeck.storage.filesystem import FilesystemBlobStore
from tests.fixtures.runs import MakeRun, case, run_factory

# Re-exported: the tests of this directory import them from here.
__all__ = ["MakeRun", "case"]

DATA = Path(__file__).resolve().parent.parent / "data"
PLAYWRIGHT_JSON = DATA / "playwright" / "report.json"
PLAYWRIGHT_ZIP = DATA / "playwright" / "report.zip"
XSS_TITLE = '<b>bold</b> "quoted" & escaped'
HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def make_run(engine: Engine, settings: Settings) -> MakeRun:
    """Store a run the way the submit endpoint does; returns its id.

    ``started_at`` is a datetime or a number of hours ago (default: now).
    """
    return run_factory(engine, FilesystemBlobStore(settings.files_dir))


def submit_report(client: TestClient | httpx.Client, project: str = "web") -> int:
    """POST the Playwright JSON report (it holds the XSS title); returns the run id."""
    response = client.post(
        "/api/test-runs/submit",
        params={"projectName": project},
        content=PLAYWRIGHT_JSON.read_bytes(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 201, response.text
    run_id: int = response.json()["testRunId"]
    return run_id


def upload_zip(client: TestClient | httpx.Client, project: str = "web", **form: str) -> int:
    """Upload the zipped Playwright output (report + screenshots + traces); returns the run id."""
    with PLAYWRIGHT_ZIP.open("rb") as handle:
        response = client.post(
            "/api/test-runs/upload",
            data={"projectName": project, **form},
            files={"file": ("report.zip", handle, "application/zip")},
        )
    assert response.status_code == 201, response.text
    run_id: int = response.json()["testRunId"]
    return run_id


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]


class ParsedPage(HTMLParser):
    """The elements of a page with their attributes, and its text (as a browser shows it)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self.chunks))

    def all(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def links(self) -> list[str]:
        return [e.attrs["href"] for e in self.elements if e.tag == "a" and "href" in e.attrs]


def parse(html: str) -> ParsedPage:
    page = ParsedPage()
    page.feed(html)
    page.close()
    return page


def table_links(html: str) -> list[str]:
    """The links inside the page's (first) table body."""
    if "<tbody>" not in html:
        return []
    return parse(html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]).links()


def get_page(client: TestClient, url: str, status: int = 200) -> tuple[httpx.Response, ParsedPage]:
    response = client.get(url, headers=HTML)
    assert response.status_code == status, (url, response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("text/html")
    return response, parse(response.text)


# --- a real browser --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@dataclass
class BrowserPage:
    """A page in a fresh browser context, with every console error and page error it saw."""

    page: Page
    errors: list[str]


@pytest.fixture
def make_page(browser: Browser) -> Iterator[Callable[..., BrowserPage]]:
    contexts: list[Any] = []

    def factory(**options: Any) -> BrowserPage:
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return BrowserPage(page=page, errors=errors)

    yield factory
    for context in contexts:
        context.close()
