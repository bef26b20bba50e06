"""CSRF: unsafe requests riding on the session cookie need the session's token and a same-site
origin; bearer requests need neither."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from playdeck.auth.csrf import accepts_reporter_cookie
from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.models import User
from playdeck.settings import Settings

from .support import PASSWORD, Login, bearer, login

NEW_PROJECT = {"name": "csrf-target"}


@pytest.fixture
def browser(auth_client: TestClient, make_user: Callable[..., User]) -> Login:
    make_user("admin", role="admin")
    return login(auth_client, "admin")


def test_cookie_request_without_token_is_refused(auth_client: TestClient, browser: Login) -> None:
    response = auth_client.post("/api/projects", json=NEW_PROJECT)
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_token"


def test_cookie_request_with_a_wrong_token_is_refused(
    auth_client: TestClient, browser: Login
) -> None:
    response = auth_client.post(
        "/api/projects", json=NEW_PROJECT, headers={"X-CSRF-Token": "forged-token"}
    )
    assert response.status_code == 403


def test_cookie_request_with_the_header_token_passes(
    auth_client: TestClient, browser: Login
) -> None:
    response = auth_client.post(
        "/api/projects", json=NEW_PROJECT, headers={"X-CSRF-Token": browser.csrf}
    )
    assert response.status_code == 201


def test_token_of_another_session_is_refused(auth_client: TestClient, browser: Login) -> None:
    other = login(auth_client, "admin")  # the client now holds the newer cookie
    response = auth_client.post(
        "/api/projects", json=NEW_PROJECT, headers={"X-CSRF-Token": browser.csrf}
    )
    assert response.status_code == 403
    assert other.csrf != browser.csrf


def test_form_field_token_passes(auth_client: TestClient, browser: Login) -> None:
    """HTML forms send the token as a ``csrf_token`` field."""
    refused = auth_client.post("/api/auth/logout-all", data={"other": "field"})
    assert refused.status_code == 403
    assert auth_client.get("/api/auth/me").status_code == 200
    response = auth_client.post("/api/auth/logout-all", data={"csrf_token": browser.csrf})
    assert response.status_code == 204
    assert auth_client.get("/api/auth/me").status_code == 401


def test_foreign_origin_is_refused_even_with_the_token(
    auth_client: TestClient, browser: Login
) -> None:
    response = auth_client.post(
        "/api/projects",
        json=NEW_PROJECT,
        headers={"X-CSRF-Token": browser.csrf, "Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_origin"


def test_cross_site_fetch_metadata_is_refused(auth_client: TestClient, browser: Login) -> None:
    response = auth_client.post(
        "/api/projects",
        json=NEW_PROJECT,
        headers={"X-CSRF-Token": browser.csrf, "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403


def test_same_origin_browser_request_passes(auth_client: TestClient, browser: Login) -> None:
    response = auth_client.post(
        "/api/projects",
        json=NEW_PROJECT,
        headers={
            "X-CSRF-Token": browser.csrf,
            "Origin": "http://testserver",
            "Sec-Fetch-Site": "same-origin",
        },
    )
    assert response.status_code == 201


def test_public_url_origin_is_accepted(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    client = make_client(auth_settings(public_url="https://dash.example.com"))
    make_user("admin", role="admin")
    browser = login(client, "admin")
    response = client.post(
        "/api/projects",
        json=NEW_PROJECT,
        headers={"X-CSRF-Token": browser.csrf, "Origin": "https://dash.example.com"},
    )
    assert response.status_code == 201


def test_bearer_requests_need_no_csrf_token(auth_client: TestClient, browser: Login) -> None:
    auth_client.cookies.clear()
    response = auth_client.post("/api/projects", json=NEW_PROJECT, headers=bearer(browser.access))
    assert response.status_code == 201


def test_safe_methods_need_no_token(auth_client: TestClient, browser: Login) -> None:
    assert auth_client.get("/api/projects").status_code == 200


def test_me_returns_the_csrf_token_to_cookie_sessions(
    auth_client: TestClient, browser: Login
) -> None:
    assert auth_client.get("/api/auth/me").json()["csrf_token"] == browser.csrf


def test_browser_request_to_the_reporter_endpoints_still_needs_the_token(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    """The reporter exception covers non-browser clients only."""
    make_user("ci", PASSWORD, role="reporter")
    login(auth_client, "ci")
    response = auth_client.post(
        "/api/test-runs/submit", json={}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 403
    response = auth_client.post(
        "/api/test-runs/submit", json={}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403


def test_the_reporter_exception_belongs_to_the_routes_that_declare_it(
    auth_client: TestClient, browser: Login
) -> None:
    """A cookie without a token passes only a route marked ``@accepts_reporter_cookie`` (the
    ingest endpoints), wherever it is mounted; any other route at any path still needs it."""
    app: FastAPI = auth_client.app  # type: ignore[assignment]

    @accepts_reporter_cookie
    def marked(_principal: Annotated[Principal, authorize(Permission.RUNS_WRITE)]) -> None: ...

    def unmarked(_principal: Annotated[Principal, authorize(Permission.RUNS_WRITE)]) -> None: ...

    app.add_api_route("/api/elsewhere/submit", marked, methods=["POST"], status_code=204)
    app.add_api_route("/api/test-runs/other", unmarked, methods=["POST"], status_code=204)
    assert auth_client.post("/api/elsewhere/submit").status_code == 204
    refused = auth_client.post("/api/test-runs/other")
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_token"
