"""Every page in a real browser (headless Chromium, auth on, an administrator signed in) passes
axe-core with no serious or critical violation, in light and dark mode, at desktop and phone
width, and none scrolls sideways."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Page
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.models import Attachment, Result, Test, User
from tests.fixtures.servers import LiveServer
from tests.invitations.test_mail import Inbox, _body, smtp_server

from .axe import axe_source, blocking_violations
from .conftest import BrowserPage, submit_report, upload_zip
from .identity_support import PASSWORD, auth_overrides, create_user

pytestmark = pytest.mark.browser
__all__ = ["smtp_server"]  # the fixture, for the site below

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Site:
    url: str
    pages: list[str]
    signed_out: list[str]  # /login and the pages one-time links open
    alice: int


def _link(response: httpx.Response) -> str:
    """The path and query of an issued one-time link."""
    assert response.status_code == 201, response.text
    url = urlsplit(response.json()["url"])
    return f"{url.path}?{url.query}"


def _mailed_link(inbox: Inbox) -> str:
    (mail,) = inbox.messages
    url = urlsplit(next(w for w in _body(mail).split() if "/verify-email?token=" in w))
    return f"{url.path}?{url.query}"


def _sign_in(page: Page, url: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("Username or email").fill("root")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def site(
    make_live_server: Callable[..., LiveServer],
    engine: Engine,
    smtp_server: tuple[Inbox, int],
) -> Iterator[Site]:
    inbox, smtp_port = smtp_server
    server = make_live_server(
        **auth_overrides(), smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_security="none"
    )
    create_user(engine, server.settings, "root", role="admin")
    alice = create_user(engine, server.settings, "alice")
    with httpx.Client(base_url=server.url) as api:
        token = api.post("/api/auth/login", json={"username": "root", "password": PASSWORD})
        api.headers["authorization"] = f"Bearer {token.json()['access_token']}"
        zip_run = upload_zip(api, branch="main")
        submit_report(api)
        with Session(engine) as session:
            failing = session.scalars(
                select(Result.test_id).where(Result.run_id == zip_run, Result.outcome == "failed")
            ).all()
        assert failing  # the zip run has failures to quarantine
        # The quarantine badges (one lapsing, one until lifted) and the run's count of them.
        for failed_id, until in zip(failing[:2], ("2999-01-01T00:00:00Z", None), strict=False):
            put = api.put(
                f"/api/tests/{failed_id}/quarantine",
                json={"reason": "Known <flaky> sandbox", "expires_at": until},
            )
            assert put.status_code == 200, put.text
        # A service account: its row on the project's settings page, and its tag on the users
        # page, which links to that page.
        account = api.post("/api/projects/web/service-accounts", json={"name": "ci"})
        assert account.status_code == 201, account.text
        invitation = _link(api.post("/api/admin/invitations", json={}))
        reset = _link(api.post(f"/api/admin/users/{alice.id}/password-reset-link"))
        api_session = api.get("/api/auth/sessions").json()[0]["id"]
    with httpx.Client(base_url=server.url) as alice_api:
        token = alice_api.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        alice_api.headers["authorization"] = f"Bearer {token.json()['access_token']}"
        changed = alice_api.patch(
            "/api/auth/me", json={"email": "alice@new.example.org", "current_password": PASSWORD}
        )
        assert changed.status_code == 200, changed.text
    with Session(engine) as session:
        test_id = session.scalar(select(Test.id).order_by(Test.id))
        shot = session.scalar(select(Attachment.id).where(Attachment.content_type == "image/png"))
        trace = session.scalar(select(Attachment.id).where(Attachment.name == "trace"))
        assert session.get(User, alice.id) is not None
    signed_out = ["/login", invitation, reset, _mailed_link(inbox)]
    for path in signed_out:  # each link opens its form, not an error page
        assert httpx.get(server.url + path).status_code == 200, path
    yield Site(
        url=server.url,
        alice=alice.id,
        pages=[
            "/",
            "/projects",
            "/projects/web",
            "/projects/web?status=failed",
            "/projects/web/tests",
            "/projects/web/tests?quarantined=1",
            "/projects/web/flaky",
            "/projects/web/failures",
            "/projects/web/members",
            "/projects/web/settings",
            "/projects/web/delete",
            f"/runs/{zip_run}",
            f"/runs/{zip_run}?group=file&outcome=failed,timedout,interrupted",
            f"/runs/{zip_run}/delete",
            f"/runs/{zip_run}/compare",
            f"/tests/{test_id}",
            f"/attachments/{shot}",
            f"/traces/{trace}",
            "/account",
            "/account/api-keys",
            "/account/two-factor",
            f"/account/sessions/{api_session}/end",
            f"/admin/users/{alice.id}/two-factor/reset",
            "/admin/users",
            "/admin/users?kind=service",
            f"/admin/users/{alice.id}/password",
            f"/admin/users/{alice.id}/role?role=admin",
            f"/admin/users/{alice.id}/keys",
            f"/admin/users/{alice.id}/delete",
            "/admin/audit",
            "/admin/sso",
            "/no/such/page",
        ],
        signed_out=signed_out,
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_has_no_serious_axe_violation_and_no_sideways_scroll(
    site: Site, make_page: Callable[..., BrowserPage], viewport: dict[str, int], scheme: str
) -> None:
    source = axe_source()
    view = make_page(viewport=viewport, color_scheme=scheme)
    page = view.page
    _sign_in(page, site.url)
    problems: dict[str, list[str]] = {}

    def check(paths: list[str]) -> None:
        for path in paths:
            page.goto(site.url + path)
            page.wait_for_load_state("load")
            found = blocking_violations(page, source)
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > viewport["width"]:
                found.append(f"scrolls sideways: {wide}px wide at {viewport['width']}px")
            if found:
                problems[path] = found

    check(site.pages)
    # Signed out: the sign-in page, and where an invitation, a reset link and a mailed
    # verification link land.
    page.context.clear_cookies()
    check(site.signed_out)
    assert problems == {}
    assert [e for e in view.errors if "404" not in e] == []


def test_the_users_table_shows_every_action_on_a_phone(
    site: Site, make_page: Callable[..., BrowserPage]
) -> None:
    view = make_page(viewport=PHONE)
    page = view.page
    _sign_in(page, site.url)
    page.goto(site.url + "/admin/users")
    row = f"tr#user-{site.alice}"
    actions = page.locator(f"{row} .row-actions a, {row} .row-actions button")
    assert actions.count() >= 4  # keys, deactivate, make admin, reset password, delete
    for index in range(actions.count()):
        action = actions.nth(index)
        box = action.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
            action.inner_text()
        )
        assert action.is_visible()
    page.get_by_role("link", name="Make admin (alice)").click()
    page.wait_for_url(f"{site.url}/admin/users/{site.alice}/role?role=admin&back=/admin/users")
    assert page.get_by_role("button", name="Make administrator").is_visible()
