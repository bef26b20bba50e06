"""Invitations, reset links and service accounts in a real browser (headless Chromium, live
server, auth on): an administrator invites someone from the users page, the invitee opens the
link in another browser, chooses a password and signs in; an administrator's reset link sets a
new password; a project owner makes a service account and a key that works."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page
from sqlalchemy import Engine

from playdeck.authz.permissions import ProjectRole
from playdeck.models import User
from tests.fixtures.servers import LiveServer

from .admin_support import make_project
from .conftest import BrowserPage
from .identity_support import NEW_PASSWORD, PASSWORD, auth_overrides, create_user

pytestmark = pytest.mark.browser


@pytest.fixture
def server(make_live_server: Callable[..., LiveServer], engine: Engine) -> LiveServer:
    del engine  # requested so that the shared database is emptied after the test
    return make_live_server(**auth_overrides())


@pytest.fixture
def account(engine: Engine, server: LiveServer) -> Callable[..., User]:
    return lambda username, **fields: create_user(engine, server.settings, username, **fields)


def _sign_in(page: Page, url: str, login: str, password: str = PASSWORD) -> None:
    page.goto(url + "/login")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _set_password(page: Page, button: str) -> None:
    page.locator("#password").fill(NEW_PASSWORD)
    page.get_by_label("Repeat the password").fill(NEW_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def test_an_invitee_joins_through_the_link_and_signs_in(
    server: LiveServer, make_page: Callable[..., BrowserPage], account: Callable[..., User]
) -> None:
    account("root", role="admin")
    view = make_page()
    admin = view.page
    _sign_in(admin, server.url, "root")
    admin.goto(server.url + "/admin/users")
    admin.get_by_text("Invite someone", exact=True).click()
    form = admin.locator("#invite")
    form.get_by_label("Email").fill("dana@example.com")
    with admin.expect_navigation():
        form.get_by_role("button", name="Create invitation link").click()
    link = admin.get_by_role("textbox", name="Link").input_value()
    assert "/invite?token=pdi_" in link

    invitee = make_page()
    page = invitee.page
    page.goto(link)
    assert "dana@example.com" in page.locator("main").inner_text()
    page.get_by_label("Username").fill("dana")
    _set_password(page, "Create account")
    assert page.url == server.url + "/login"
    _sign_in(page, server.url, "dana", NEW_PASSWORD)
    page.goto(server.url + "/account")
    assert "dana@example.com" in page.locator("main").inner_text()
    assert view.errors == invitee.errors == []


def test_a_reset_link_sets_the_password_the_admin_never_sees(
    server: LiveServer, make_page: Callable[..., BrowserPage], account: Callable[..., User]
) -> None:
    account("root", role="admin")
    alice = account("alice")
    admin = make_page().page
    _sign_in(admin, server.url, "root")
    admin.goto(f"{server.url}/admin/users/{alice.id}/password")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Create reset link").click()
    link = admin.get_by_role("textbox", name="Link").input_value()

    page = make_page().page
    page.goto(link)
    _set_password(page, "Set password")
    assert page.url == server.url + "/login"
    _sign_in(page, server.url, "alice", NEW_PASSWORD)
    assert page.url == server.url + "/"


def test_a_project_owner_makes_a_service_account_key_that_works(
    server: LiveServer,
    make_page: Callable[..., BrowserPage],
    account: Callable[..., User],
    engine: Engine,
) -> None:
    account("olga")
    make_project(engine, "Shop", olga=ProjectRole.OWNER)
    view = make_page()
    page = view.page
    _sign_in(page, server.url, "olga")
    page.goto(server.url + "/projects/shop/settings")
    form = page.locator("#new-service-account")
    form.get_by_label("Name").fill("github-ci")
    with page.expect_navigation():
        form.get_by_role("button", name="Create service account").click()
    section = page.locator("[data-username=sa-shop-github-ci]")
    section.get_by_label("New key name").fill("nightly")
    with page.expect_navigation():
        section.get_by_role("button", name="Create key for sa-shop-github-ci").click()
    key = page.get_by_role("textbox", name="Key").input_value()
    assert key.startswith("pd_")

    me = httpx.get(server.url + "/api/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert me.json()["user"]["username"] == "sa-shop-github-ci"
    assert view.errors == []
