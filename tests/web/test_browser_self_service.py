"""Ending a session in a real browser (headless Chromium, live server, auth on): signed in on a
laptop and a phone, the laptop ends the phone's session from its account page, and the phone
is signed out on its next page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from tests.fixtures.servers import LiveServer

from .conftest import BrowserPage
from .identity_support import auth_overrides, create_user
from .test_browser_accounts import _sign_in

pytestmark = pytest.mark.browser

PHONE = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"


@pytest.fixture
def server(make_live_server: Callable[..., LiveServer], engine: Engine) -> LiveServer:
    del engine  # requested so that the shared database is emptied after the test
    return make_live_server(**auth_overrides())


def test_the_laptop_ends_the_phones_session(
    server: LiveServer, make_page: Callable[..., BrowserPage], engine: Engine
) -> None:
    create_user(engine, server.settings, "alice")
    phone_view = make_page(user_agent=PHONE)
    phone = phone_view.page
    _sign_in(phone, server.url, "alice")
    laptop_view = make_page()
    laptop = laptop_view.page
    _sign_in(laptop, server.url, "alice")

    laptop.goto(server.url + "/account")
    sessions = laptop.locator("#sessions")
    assert sessions.locator("tbody tr").count() == 2
    assert "this device" in sessions.locator("tr.is-current").inner_text()
    with laptop.expect_navigation():
        sessions.get_by_role("link", name="End the session of Chrome on Android").click()
    assert "End this session?" in laptop.locator("main").inner_text()
    with laptop.expect_navigation():
        laptop.get_by_role("button", name="End session").click()
    assert laptop.url == server.url + "/account#sessions"
    assert "Session ended." in laptop.locator(".notices").inner_text()
    assert sessions.locator("tbody tr").count() == 1

    phone.goto(server.url + "/account")
    assert phone.url.startswith(server.url + "/login")
    laptop.reload()
    assert laptop.url == server.url + "/account#sessions"  # the laptop is still signed in
    assert laptop_view.errors == phone_view.errors == []
