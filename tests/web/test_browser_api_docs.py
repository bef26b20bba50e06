"""``/docs`` and ``/redoc`` work without internet: real Chromium, every request to another host
refused, the page's strict CSP in force, and the UIs still render the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Route

from .conftest import BrowserPage

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        ("/docs", ".swagger-ui .info .title"),
        ("/redoc", "#redoc h1"),
    ],
)
def test_the_api_docs_render_offline_under_their_csp(
    make_live_server: Callable[..., Any],
    make_page: Callable[..., BrowserPage],
    path: str,
    rendered: str,
) -> None:
    server = make_live_server()
    own = urlsplit(server.url).netloc
    elsewhere: list[str] = []

    def offline(route: Route) -> None:
        if urlsplit(route.request.url).netloc in (own, ""):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    view = make_page()
    view.page.route("**/*", offline)
    response = view.page.goto(server.url + path)
    assert response is not None and response.ok
    assert "script-src 'self';" in response.headers["content-security-policy"]
    title = view.page.locator(rendered).first
    title.wait_for(timeout=20_000)
    assert "Playdeck" in title.inner_text()
    assert elsewhere == []
    # ReDoc's bundle links its "powered by" logo from its CDN; the policy blocks it (so nothing
    # leaves) and that is the one console error allowed. Anything else the CSP blocked would
    # show up here.
    errors = [e for e in view.errors if "cdn.redoc.ly/redoc/logo-mini.svg" not in e]
    assert errors == []
