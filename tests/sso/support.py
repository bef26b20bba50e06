"""Driving a sign-on over plain HTTP: Playdeck's redirect, the provider's pages, the callback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi.testclient import TestClient

from tests.fixtures.oidc_provider import sign_in_over_http

from .conftest import APP_URL

HTML = {"accept": "text/html"}


def callback_url(
    app: TestClient, login: str, *, provider: str = "test", next_path: str = ""
) -> str:
    """Start a sign-on at Playdeck and walk the provider's pages; returns the URL the provider
    redirected back to (not yet visited)."""
    start = app.get(
        f"/auth/sso/{provider}",
        params={"next": next_path} if next_path else None,
        follow_redirects=False,
    )
    assert start.status_code == 303, start.text[:300]
    with httpx.Client(timeout=10) as person:
        return sign_in_over_http(
            person, start.headers["location"], login=login, stop_at=f"{APP_URL}/auth/sso/"
        )


def finish(app: TestClient, url: str) -> httpx.Response:
    parts = urlsplit(url)
    response: httpx.Response = app.get(
        f"{parts.path}?{parts.query}", headers=HTML, follow_redirects=False
    )
    return response


def sign_on(app: TestClient, login: str, *, provider: str = "test") -> httpx.Response:
    return finish(app, callback_url(app, login, provider=provider))


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)
