"""The PhenX dashboard's authentication as its guide describes it, on Playdeck: setup while the
instance is empty, cookie sessions the PhenX reporter replays, and everything open when
authentication is switched off."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from playdeck.models import User
from playdeck.settings import Settings

from .support import PASSWORD, login

GUIDE_PASSWORD = "your-secure-password"
SUBMIT_JSON = Path(__file__).parents[1] / "data" / "phenx" / "submit.json"
RUN: dict[str, Any] = json.loads(SUBMIT_JSON.read_text())


def test_setup_creates_the_first_admin_only_while_no_user_exists(
    auth_client: TestClient,
) -> None:
    created = auth_client.post(
        "/api/auth/setup",
        json={"username": "admin", "password": GUIDE_PASSWORD, "name": "Administrator"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["user"]["role"] == "admin"
    assert body["user"]["name"] == "Administrator"
    assert "playdeck_session" in created.cookies  # signed in at once

    again = auth_client.post(
        "/api/auth/setup", json={"username": "mallory", "password": "another long passphrase"}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "setup_complete"


def test_login_sets_an_httponly_samesite_session_cookie(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("admin", GUIDE_PASSWORD, role="admin")
    response = auth_client.post(
        "/api/auth/login", json={"username": "admin", "password": GUIDE_PASSWORD}
    )
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("playdeck_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=604800" in cookie
    assert "Secure" not in cookie  # plain http, cookie_secure off


def test_cookie_is_secure_when_configured(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    client = make_client(auth_settings(cookie_secure=True))
    make_user()
    assert "Secure" in login(client).response.headers["set-cookie"]


def test_login_cookie_authenticates_a_protected_route(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("reader", PASSWORD)
    session_cookie = login(auth_client, "reader").cookie
    auth_client.cookies.clear()

    assert auth_client.get("/api/auth/me").status_code == 401
    me = auth_client.get("/api/auth/me", headers={"Cookie": f"playdeck_session={session_cookie}"})
    assert me.status_code == 200
    assert me.json()["credential"] == "session"
    assert me.json()["user"]["username"] == "reader"


def test_reporter_replays_the_cookie_to_submit_results(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    """The PhenX reporter joins the Set-Cookie values into a Cookie header, sends no CSRF
    token and no Origin: the two submission endpoints accept that."""
    make_user("ci", PASSWORD, role="reporter")
    response = auth_client.post("/api/auth/login", json={"username": "ci", "password": PASSWORD})
    cookie = "; ".join(f"{name}={value}" for name, value in response.cookies.items())
    auth_client.cookies.clear()

    submitted = auth_client.post("/api/test-runs/submit", json=RUN, headers={"Cookie": cookie})
    assert submitted.status_code == 201, submitted.text
    assert auth_client.post("/api/test-runs/submit", json=RUN).status_code == 401


def test_reporter_role_may_only_submit(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("ci", PASSWORD, role="reporter")
    tokens = login(auth_client, "ci")
    auth_client.cookies.clear()
    headers = {"Authorization": f"Bearer {tokens.access}"}
    assert auth_client.get("/api/projects", headers=headers).status_code == 403
    assert auth_client.get("/api/auth/me", headers=headers).status_code == 200


def test_disabling_auth_opens_every_endpoint(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> None:
    client = make_client(make_settings(require_auth=False))
    assert client.get("/api/projects").status_code == 200
    assert client.post("/api/projects", json={"name": "open"}).status_code == 201
    assert client.post("/api/test-runs/submit", json=RUN).status_code == 201
    assert client.get("/api/admin/audit").status_code == 200
    me = client.get("/api/auth/me").json()
    assert me["authenticated"] is False
    assert me["auth_enabled"] is False
    assert me["is_superuser"] is True


def test_with_auth_disabled_login_setup_and_register_say_so(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> None:
    client = make_client(make_settings(require_auth=False, allow_registration=True))
    attempts = {
        "/api/auth/login": {"username": "admin", "password": GUIDE_PASSWORD},
        "/api/auth/setup": {"username": "admin", "password": GUIDE_PASSWORD},
        "/api/auth/register": {"email": "a@example.com", "password": GUIDE_PASSWORD},
        "/api/auth/refresh": {"refresh_token": "pdr_x"},
    }
    for path, body in attempts.items():
        response = client.post(path, json=body)
        assert response.status_code == 400, path
        assert response.json()["detail"] == "authentication is disabled"
