"""Signing in with a second factor in a real browser: headless Chromium, a live server."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import Engine

from playdeck.kit.clock import utcnow
from playdeck.twofactor import totp
from tests.fixtures.servers import LiveServer

from .conftest import BrowserPage
from .identity_support import PASSWORD, auth_overrides, create_user

pytestmark = pytest.mark.browser


@pytest.fixture
def server(make_live_server: Callable[..., LiveServer], engine: Engine) -> LiveServer:
    del engine  # requested so that the shared database is emptied after the test
    return make_live_server(**auth_overrides())


def _enrol(server: LiveServer) -> tuple[str, int]:
    """Two-factor authentication on for alice through the API: the secret, and the step whose
    code confirmed it (used up: the browser must type a later one)."""
    with httpx.Client(base_url=server.url) as api:
        signed_in = api.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        started = api.post(
            "/api/auth/two-factor/enrol", json={"password": PASSWORD}, headers=headers
        )
        secret = str(started.json()["secret"])
        step = totp.step_at(utcnow())
        confirmed = api.post(
            "/api/auth/two-factor/confirm",
            json={"code": totp.code_at(secret, step)},
            headers=headers,
        )
        assert confirmed.status_code == 200, confirmed.text
    return secret, step


def test_signing_in_with_a_code_from_the_authenticator_app(
    server: LiveServer, engine: Engine, make_page: Callable[..., BrowserPage]
) -> None:
    create_user(engine, server.settings, "alice")
    secret, used_step = _enrol(server)
    view = make_page()
    page = view.page
    page.goto(server.url + "/projects")
    page.wait_for_url(re.compile(r"/login\?next=%2Fprojects$"))
    page.get_by_label("Username or email").fill("alice")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    code_field = page.get_by_label("Code from your authenticator app")
    code_field.wait_for()
    assert page.evaluate("document.activeElement.id") == "code"
    code_field.fill("000000")
    page.get_by_role("button", name="Verify").click()
    page.locator("#form-error").wait_for()
    assert "Invalid two-factor code" in page.locator("#form-error").inner_text()

    # The app's code now; the step that confirmed enrolment is spent, so at least the next
    # (within the one step of drift the server allows).
    step = max(totp.step_at(utcnow()), used_step + 1)
    page.get_by_label("Code from your authenticator app").fill(totp.code_at(secret, step))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(server.url + "/projects")
    page.locator(".user-menu summary").click()
    assert "alice" in page.locator(".user-menu").inner_text()
    # The wrong code's page came with its 401, which the console reports; nothing else failed.
    assert [e for e in view.errors if "status of 401" not in e] == []
