"""Signing in, out and up in a real browser: headless Chromium against a server with auth on."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page
from sqlalchemy import Engine

from tests.fixtures.servers import LiveServer

from .conftest import BrowserPage
from .identity_support import PASSWORD, XSS_NAME, auth_overrides, create_user

pytestmark = pytest.mark.browser


@pytest.fixture
def server(make_live_server: Callable[..., LiveServer], engine: Engine) -> LiveServer:
    """A live server with authentication on, on the tests' database (``engine`` is requested so
    that the shared database is emptied after the test)."""
    del engine
    return make_live_server(**auth_overrides())


@pytest.fixture
def make_account(engine: Engine, server: LiveServer) -> Callable[..., object]:
    """Create a user in the live server's database, through the users service."""
    return lambda username, **fields: create_user(engine, server.settings, username, **fields)


def _sign_in(page: Page, login: str, password: str) -> None:
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _open_user_menu(page: Page) -> None:
    page.locator(".user-menu summary").click()


def test_first_admin_setup_then_sign_out_and_back_in_to_the_requested_page(
    server: LiveServer, make_page: Callable[..., BrowserPage]
) -> None:
    view = make_page()
    page = view.page
    page.goto(server.url + "/projects")
    page.wait_for_url(re.compile(r"/login\?next=%2Fprojects$"))
    page.get_by_role("link", name="Set up the first administrator").click()
    page.wait_for_url(server.url + "/setup")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create administrator").click()
    page.wait_for_url(server.url + "/")
    assert "Welcome!" in page.locator(".notices").inner_text()

    _open_user_menu(page)
    menu = page.locator(".user-menu")
    assert "root" in menu.inner_text() and "admin" in menu.inner_text().lower()
    assert menu.get_by_role("link", name="Audit log").is_visible()
    page.keyboard.press("Escape")  # the menu closes for keyboard users, focus on its toggle
    assert page.locator(".user-menu__panel").evaluate("menu => !menu.open")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")
    menu.get_by_role("link", name="Account").click()
    page.wait_for_url(server.url + "/account")
    assert "this device" in page.locator("#sessions").inner_text()

    _open_user_menu(page)
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(server.url + "/login")
    assert "You are signed out." in page.locator(".notices").inner_text()
    assert page.goto(server.url + "/setup") is not None
    page.wait_for_url(server.url + "/login")  # setup is closed now

    page.goto(server.url + "/projects?q=shop")
    page.wait_for_url(re.compile(r"/login\?next="))
    _sign_in(page, "root", PASSWORD)
    page.wait_for_url(server.url + "/projects?q=shop")
    assert page.locator("#q").input_value() == "shop"
    assert view.errors == []


def test_lockout_after_five_bad_passwords_shows_the_time_left(
    server: LiveServer,
    make_page: Callable[..., BrowserPage],
    make_account: Callable[..., object],
) -> None:
    make_account("alice")
    page = make_page().page
    page.goto(server.url + "/login")
    for _ in range(5):
        _sign_in(page, "alice", "not the right passphrase")
        assert page.get_by_role("alert").inner_text() == "Invalid username or password."
    _sign_in(page, "alice", PASSWORD)
    alert = page.get_by_role("alert").inner_text()
    assert "temporarily locked" in alert
    assert "Try again in 15 minutes." in alert
    assert page.get_by_label("Username or email").input_value() == "alice"
    page.goto(server.url + "/account")
    page.wait_for_url(re.compile(r"/login\?next=%2Faccount$"))  # still signed out


def test_forged_posts_without_the_token_are_refused(
    server: LiveServer,
    make_page: Callable[..., BrowserPage],
    make_account: Callable[..., object],
) -> None:
    make_account("alice")
    page = make_page().page
    page.goto(server.url + "/login")
    _sign_in(page, "alice", PASSWORD)
    page.wait_for_url(server.url + "/")
    cookie = next(c for c in page.context.cookies() if c["name"] == "playdeck_session")

    with httpx.Client(base_url=server.url, cookies={"playdeck_session": cookie["value"]}) as forger:
        for url, data in [
            ("/account/password", {"current_password": PASSWORD, "new_password": "x" * 20}),
            ("/account/sign-out-everywhere", {}),
            ("/logout", {}),
        ]:
            response = forger.post(url, data=data, headers={"accept": "text/html"})
            assert response.status_code == 403, url
            assert "CSRF" in response.text

    # A login form posted without its token (login CSRF) is refused as well.
    refused = page.request.post(
        server.url + "/login", form={"login": "alice", "password": PASSWORD}
    )
    assert refused.status == 403

    page.goto(server.url + "/account")
    assert page.url == server.url + "/account"  # still signed in, nothing was changed


def test_a_display_name_with_markup_is_shown_as_text(
    server: LiveServer,
    make_page: Callable[..., BrowserPage],
    make_account: Callable[..., object],
) -> None:
    make_account("alice", name=XSS_NAME)
    view = make_page()
    page = view.page
    page.goto(server.url + "/login?next=%2Faccount")
    _sign_in(page, "alice", PASSWORD)
    page.wait_for_url(server.url + "/account")
    assert page.locator(".display-name").inner_text() == XSS_NAME
    assert page.evaluate("document.querySelectorAll('main b, main script').length") == 0
    assert view.errors == []
