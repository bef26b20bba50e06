"""The JWT login API's guide, checked on Playdeck: register and log in by email at its ``/auth/*``
paths, tokens that work as bearer credentials, and its verification list."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from playdeck.models import User
from playdeck.settings import Settings

from .support import bearer

GUIDE_PASSWORD = "your-secure-password"


def test_unauthenticated_api_requests_get_401(auth_client: TestClient) -> None:
    response = auth_client.get("/api/projects")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"].startswith("application/problem+json")


def test_register_then_login_by_email_returns_tokens(
    make_client: Callable[[Settings], TestClient], auth_settings: Callable[..., Settings]
) -> None:
    client = make_client(auth_settings(allow_registration=True))
    registered = client.post(
        "/auth/register",
        json={
            "email": "admin@yourcompany.com",
            "password": GUIDE_PASSWORD,
            "full_name": "Admin User",
        },
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["email"] == "admin@yourcompany.com"
    assert registered.json()["full_name"] == "Admin User"

    response = client.post(
        "/auth/login", json={"email": "admin@yourcompany.com", "password": GUIDE_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["refresh_expires_in"] == 7 * 24 * 3600
    assert body["access_token"].count(".") == 2  # a JWT
    assert body["refresh_token"]
    assert body["user"]["email"] == "admin@yourcompany.com"


def test_protected_endpoint_accepts_the_access_token(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("bob", GUIDE_PASSWORD, email="bob@example.com", role="admin")
    tokens = auth_client.post(
        "/auth/login", json={"email": "bob@example.com", "password": GUIDE_PASSWORD}
    ).json()
    auth_client.cookies.clear()  # only the bearer token authenticates what follows

    assert auth_client.get("/api/projects").status_code == 401
    response = auth_client.get("/api/projects", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    me = auth_client.get("/auth/me", headers=bearer(tokens["access_token"])).json()
    assert me["authenticated"] is True
    assert me["user"]["username"] == "bob"
    assert me["user"]["is_superuser"] is True


def test_refresh_returns_new_tokens_and_invalidates_the_old_refresh_token(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("carol", GUIDE_PASSWORD, email="carol@example.com")
    first = auth_client.post(
        "/auth/login", json={"email": "carol@example.com", "password": GUIDE_PASSWORD}
    ).json()

    rotated = auth_client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["token_type"] == "bearer"

    again = auth_client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401


def test_account_locks_after_five_failed_logins_with_423(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("dave", GUIDE_PASSWORD, email="dave@example.com")
    for _ in range(5):
        failed = auth_client.post(
            "/auth/login", json={"email": "dave@example.com", "password": "wrong password!"}
        )
        assert failed.status_code == 401
    locked = auth_client.post(
        "/auth/login", json={"email": "dave@example.com", "password": GUIDE_PASSWORD}
    )
    assert locked.status_code == 423
    assert int(locked.headers["retry-after"]) > 0
