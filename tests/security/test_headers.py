"""Transport headers: HSTS over HTTPS (directly or through a trusted proxy), the ``__Host-``
cookie prefix over HTTPS, ``no-store`` on pages and JSON, and the API docs behind sign-in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from playdeck.app import create_app
from playdeck.models import User
from playdeck.settings import Settings

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "violet tangerine hovercraft"
PROXY = ("10.0.0.1", 443)


@pytest.fixture
def make_https_client(
    make_settings: Callable[..., Settings], engine: Any
) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def factory(base_url: str = "https://testserver", **kwargs: Any) -> TestClient:
        settings = make_settings(require_auth=True, secret_key=SECRET, **kwargs.pop("settings", {}))
        client = TestClient(create_app(settings), base_url=base_url, **kwargs)
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


def test_hsts_on_https_only(make_https_client: Callable[..., TestClient]) -> None:
    https = make_https_client()
    assert https.get("/healthz").headers["strict-transport-security"] == "max-age=31536000"
    assert https.get("/login").headers["strict-transport-security"] == "max-age=31536000"
    plain = make_https_client(base_url="http://testserver")
    assert "strict-transport-security" not in plain.get("/healthz").headers


def test_hsts_through_a_trusted_proxy_only(make_https_client: Callable[..., TestClient]) -> None:
    forwarded = {"X-Forwarded-Proto": "https"}
    trusted = make_https_client(
        base_url="http://testserver", client=PROXY, settings={"trusted_proxies": ["10.0.0.1"]}
    )
    assert "strict-transport-security" in trusted.get("/healthz", headers=forwarded).headers
    untrusted = make_https_client(base_url="http://testserver", client=PROXY)
    assert "strict-transport-security" not in untrusted.get("/healthz", headers=forwarded).headers


def test_the_session_cookie_has_the_host_prefix_over_https(
    make_https_client: Callable[..., TestClient], make_account: Callable[..., User]
) -> None:
    make_account("alice", role="user", password=PASSWORD)
    client = make_https_client()
    login = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert login.status_code == 200
    cookie = login.headers["set-cookie"]
    assert cookie.startswith("__Host-playdeck_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert client.get("/api/auth/me").json()["authenticated"] is True
    # Over HTTPS an unprefixed cookie (one a sibling subdomain could plant) is not a session.
    value = login.cookies["__Host-playdeck_session"]
    client.cookies.clear()
    client.cookies.set("playdeck_session", value)
    assert client.get("/api/auth/me").status_code == 401


def test_authenticated_json_and_pages_are_not_stored(
    make_https_client: Callable[..., TestClient], make_account: Callable[..., User]
) -> None:
    make_account("alice", role="user", password=PASSWORD)
    client = make_https_client()
    login = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    token = login.json()["access_token"]
    client.cookies.clear()
    for path in ("/api/projects", "/api/auth/me"):
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store", path
    client.cookies.set("__Host-playdeck_session", login.cookies["__Host-playdeck_session"])
    page = client.get("/projects", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    # Static assets keep their own caching.
    assert client.get("/static/playdeck.css").headers.get("cache-control") != "no-store"


def test_the_api_docs_need_a_sign_in_with_auth_on(
    make_https_client: Callable[..., TestClient], make_account: Callable[..., User]
) -> None:
    make_account("alice", role="user", password=PASSWORD)
    client = make_https_client()
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert client.get(path).status_code == 401, path
    browser = client.get("/docs", headers={"Accept": "text/html"}, follow_redirects=False)
    assert browser.status_code == 303
    assert browser.headers["location"] == "/login?next=%2Fdocs"
    login = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert client.get("/openapi.json", headers=bearer).json()["info"]["title"] == "Playdeck"
    assert client.get("/docs", headers=bearer).status_code == 200
