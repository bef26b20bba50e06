"""Helpers for the identity and account page tests: users made through the real service, and a
browser-like sign-in through the pages (form token and cookie included)."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from playdeck.models import User
from playdeck.settings import Settings
from tests.fixtures.accounts import PASSWORD, SECRET, auth_overrides, create_account

from .conftest import HTML, parse

# Re-exported: the page tests import them from here.
__all__ = ["PASSWORD", "SECRET", "auth_overrides"]

NEW_PASSWORD = "quiet orchard lantern meadow"
XSS_NAME = '<b>bold</b> "quoted" & escaped'


def create_user(
    engine: Engine,
    settings: Settings,
    username: str = "alice",
    *,
    role: str = "user",
    password: str = PASSWORD,
    email: str | None = None,
    name: str | None = None,
) -> User:
    return create_account(
        engine,
        settings,
        username,
        role=role,
        password=password,
        email=email,
        display_name=name,
    )


def hidden_value(html: str, name: str = "csrf_token") -> str:
    inputs = parse(html).all("input", type="hidden", name=name)
    assert inputs, f"no hidden {name} field"
    return inputs[0].attrs["value"]


def form_token(client: TestClient, url: str = "/login") -> str:
    """Open a pre-session form the way a browser does: the cookie lands in the client's jar."""
    response = client.get(url, headers=HTML, follow_redirects=False)
    assert response.status_code == 200, (response.status_code, response.text[:300])
    return hidden_value(response.text)


def post_login(
    client: TestClient,
    login: str = "alice",
    password: str = PASSWORD,
    *,
    next_path: str | None = None,
    token: str | None = None,
) -> httpx.Response:
    data = {"login": login, "password": password, "csrf_token": token or form_token(client)}
    if next_path is not None:
        data["next"] = next_path
    response: httpx.Response = client.post(
        "/login", data=data, headers=HTML, follow_redirects=False
    )
    return response


def sign_in(client: TestClient, login: str = "alice", password: str = PASSWORD) -> str:
    """Sign in through the page; returns the session's CSRF token (what page forms carry)."""
    response = post_login(client, login, password)
    assert response.status_code == 303, response.text[:300]
    page = client.get("/account", headers=HTML)
    assert page.status_code == 200
    return parse(page.text).all("meta", name="csrf-token")[0].attrs["content"]
