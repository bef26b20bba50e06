"""Administration in a real browser (headless Chromium against a live server, auth on): creating a
user, adding a member who then sees the read-only page, and an API key shown once and then used
by ``playdeck upload``."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from playdeck.authz.permissions import ProjectRole
from playdeck.cli.main import app as cli
from playdeck.models import ApiKey, Run, User
from tests.fixtures.servers import LiveServer

from .admin_support import fresh, make_project
from .conftest import PLAYWRIGHT_JSON, BrowserPage
from .identity_support import NEW_PASSWORD, PASSWORD, auth_overrides, create_user

pytestmark = pytest.mark.browser

KEY = re.compile(r"pd_[0-9a-f]{64}")
# The upload command reads these from the environment too: the test passes flags only.
CLEAN_ENV: dict[str, str | None] = {
    "PLAYDECK_SERVER_URL": None,
    "PLAYDECK_PROJECT": None,
    "PLAYDECK_API_KEY": None,
    "PLAYDECK_USERNAME": None,
    "PLAYDECK_PASSWORD": None,
}


@pytest.fixture
def server(make_live_server: Callable[..., LiveServer], engine: Engine) -> LiveServer:
    """A live server with authentication on, on the tests' database (``engine`` is requested so
    that the shared database is emptied after the test)."""
    del engine
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


def test_admin_creates_a_user_who_can_then_sign_in(
    server: LiveServer,
    make_page: Callable[..., BrowserPage],
    account: Callable[..., User],
    db: Session,
) -> None:
    account("root", role="admin")
    view = make_page()
    page = view.page
    _sign_in(page, server.url, "root")
    page.locator(".user-menu summary").click()
    page.locator(".user-menu").get_by_role("link", name="Users").click()
    page.wait_for_url(server.url + "/admin/users")

    form = page.locator("#new-user")
    assert not form.is_visible()  # folded away until asked for
    page.get_by_text("New user", exact=True).click()
    form.get_by_label("Username").fill("carol")
    form.get_by_label("Password").fill(NEW_PASSWORD)
    form.get_by_label("Role").select_option("user")
    form.get_by_label("Display name").fill("Carol Q. <Tester>")
    form.get_by_label("Email").fill("carol@example.com")
    form.get_by_role("button", name="Create user").click()
    page.wait_for_url(server.url + "/admin/users")
    assert "User created." in page.locator(".notices").inner_text()
    row = page.locator("tr[data-username=carol]")
    assert "Carol Q. <Tester>" in row.inner_text()  # typed text stays text
    assert "carol@example.com" in row.inner_text()

    carol = fresh(db).scalars(select(User).where(User.username == "carol")).one()
    assert (carol.role, carol.display_name) == ("user", "Carol Q. <Tester>")

    other = make_page().page  # another browser: carol signs in with the new password
    _sign_in(other, server.url, "carol", NEW_PASSWORD)
    other.goto(server.url + "/account")
    assert "carol@example.com" in other.locator("main").inner_text()
    assert view.errors == []


def test_added_viewer_sees_the_members_page_without_controls(
    server: LiveServer,
    make_page: Callable[..., BrowserPage],
    account: Callable[..., User],
    engine: Engine,
) -> None:
    account("olga")
    account("vic", email="vic@example.com")
    make_project(engine, "Shop", olga=ProjectRole.OWNER)

    owner = make_page().page
    _sign_in(owner, server.url, "olga")
    owner.goto(server.url + "/projects/shop")
    owner.locator(".tabs").get_by_role("link", name="Members").click()
    owner.wait_for_url(server.url + "/projects/shop/members")
    add = owner.locator("#add-member")
    add.get_by_label("Username or email").fill("vic@example.com")
    add.get_by_label("Role").select_option("viewer")
    add.get_by_role("button", name="Add member").click()
    owner.wait_for_url(server.url + "/projects/shop/members")
    assert "Member added." in owner.locator(".notices").inner_text()
    assert owner.locator("tr[data-username=vic] select").input_value() == "viewer"

    view = make_page()
    viewer = view.page
    _sign_in(viewer, server.url, "vic")
    viewer.goto(server.url + "/projects/shop/members")
    table = viewer.locator("table.members")
    assert table.locator("tr[data-username]").count() == 2
    assert "owner" in table.locator("tr[data-username=olga]").inner_text()
    main = viewer.locator("main")
    assert main.locator("form").count() == 0 and main.locator("select").count() == 0
    assert main.get_by_role("button").count() == 0
    assert main.get_by_text("Add a member").count() == 0
    assert view.errors == []


def test_api_key_is_shown_once_then_used_by_playdeck_upload(
    server: LiveServer,
    make_page: Callable[..., BrowserPage],
    account: Callable[..., User],
    engine: Engine,
    db: Session,
) -> None:
    account("alice")
    project = make_project(engine, "web", alice=ProjectRole.MEMBER)
    view = make_page(permissions=["clipboard-read", "clipboard-write"])
    page = view.page
    _sign_in(page, server.url, "alice")
    page.goto(server.url + "/account")
    form = page.locator("#new-key-form")
    form.get_by_label("Name").fill("CI upload")
    form.get_by_label("Only for project").fill("web")
    form.get_by_label("runs:write").check()
    form.get_by_role("button", name="Create key").click()
    page.wait_for_load_state()

    shown = page.locator("#new-key")
    key = shown.inner_text().strip()
    assert KEY.fullmatch(key)
    assert "will not be shown again" in page.locator(".key-created").inner_text()
    page.locator(".key-created").get_by_role("button", name="Copy").first.click()
    assert page.evaluate("navigator.clipboard.readText()") == key
    assert page.url == server.url + "/account/api-keys"  # the history entry is a GET now

    page.reload()
    assert page.locator("#new-key").count() == 0
    assert key not in page.content()
    assert f"pd_{key[3:11]}…" in page.locator("table.keys").inner_text()
    assert fresh(db).scalars(select(ApiKey)).one().name == "CI upload"  # reload made no other

    result = CliRunner().invoke(
        cli,
        [
            "upload",
            str(PLAYWRIGHT_JSON),
            "--project",
            "web",
            "--server",
            server.url,
            "--api-key",
            key,
        ],
        env=CLEAN_ENV,
    )
    assert result.exit_code == 0, result.output
    assert key not in result.output
    run = fresh(db).scalars(select(Run)).one()
    assert run.project_id == project.id
    assert result.stdout.strip() == f"{server.url}/runs/{run.id}"

    page.reload()
    row = page.locator("table.keys tr", has_text="CI upload")
    assert "never" not in row.locator("td").nth(4).inner_text()  # last used: just now
    page.goto(result.stdout.strip())
    assert page.locator("h1").count() == 1
    assert view.errors == []
