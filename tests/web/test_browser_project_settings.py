"""The Settings tab in a real browser (headless Chromium against a live server, auth on): an
owner sets a retention policy with a branch rule, pins a run from its page, sees it listed,
then deletes the project through the confirmation step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import pytest
from playwright.sync_api import Page
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.authz.permissions import ProjectRole
from playdeck.models import Project, RetentionPolicy, Run
from playdeck.settings import Settings

from .admin_support import fresh, make_project
from .conftest import BrowserPage, MakeRun, case
from .identity_support import PASSWORD, auth_overrides, create_user

pytestmark = pytest.mark.browser


class LiveServer(Protocol):
    url: str
    settings: Settings


@pytest.fixture
def server(make_live_server: Callable[..., LiveServer], engine: Engine) -> LiveServer:
    del engine  # requested so that the shared database is emptied after the test
    return make_live_server(**auth_overrides())


def _sign_in(page: Page, url: str, login: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_owner_sets_retention_pins_a_run_and_deletes_the_project(
    server: LiveServer,
    make_page: Callable[..., BrowserPage],
    make_run: MakeRun,
    engine: Engine,
    db: Session,
) -> None:
    create_user(engine, server.settings, "olga")
    project = make_project(engine, "Shop", olga=ProjectRole.OWNER)
    run_id = make_run([case("pays", "failed")], project="Shop", branch="main")

    view = make_page()
    page = view.page
    _sign_in(page, server.url, "olga")
    page.goto(server.url + "/projects/shop")
    page.locator(".tabs").get_by_role("link", name="Settings").click()
    page.wait_for_url(server.url + "/projects/shop/settings")

    form = page.locator("#retention-form")
    form.get_by_label("Keep runs for (days)").fill("30")
    form.get_by_label("Keep attachments and reports for (days)").fill("7")
    form.get_by_label("Branch of rule 1").fill("main")
    form.get_by_label("Keep days of rule 1").fill("90")
    form.get_by_role("button", name="Save retention policy").click()
    page.wait_for_url(server.url + "/projects/shop/settings")
    assert "Retention policy saved." in page.locator(".notices").inner_text()
    assert form.get_by_label("Branch of rule 1").input_value() == "main"
    policy = (
        fresh(db)
        .scalars(select(RetentionPolicy).where(RetentionPolicy.project_id == project.id))
        .one()
    )
    assert (policy.keep_days, policy.files_days) == (30, 7)
    assert policy.branch_rules[0]["branch"] == "main"

    page.goto(f"{server.url}/runs/{run_id}")
    page.get_by_role("button", name="Pin", exact=True).click()
    page.wait_for_url(f"{server.url}/runs/{run_id}")
    assert page.get_by_role("button", name="Unpin").count() == 1
    assert fresh(db).get(Run, run_id).pinned is True  # type: ignore[union-attr]

    page.goto(server.url + "/projects/shop/settings")
    assert page.locator(f"#pinned-{run_id}").count() == 1
    page.get_by_role("link", name="Delete project…").click()
    page.wait_for_url(server.url + "/projects/shop/delete")
    page.get_by_role("button", name="Delete project").click()
    page.wait_for_url(server.url + "/projects")
    assert "Project deleted" in page.locator(".notices").inner_text()
    assert fresh(db).get(Project, project.id) is None
    assert view.errors == []
