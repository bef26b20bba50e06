"""Single sign-on in a real browser: headless Chromium, a live Playdeck and a real OpenID
provider (oidc-provider): sign in through the provider's pages with PKCE, land where you were
going with the roles your groups give, then sign out of both; accept an invitation through the
provider."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.invitations import service as invitations
from playdeck.invitations.schemas import InvitationCreate
from playdeck.models import Project
from tests.fixtures.accounts import auth_overrides
from tests.fixtures.oidc_provider import OidcProvider, run_provider
from tests.fixtures.servers import LiveServer
from tests.sso.conftest import write_sso_file

from .conftest import BrowserPage

pytestmark = [pytest.mark.browser, pytest.mark.node]


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[OidcProvider]:
    with run_provider(tmp_path) as running:
        yield running


@pytest.fixture
def server(
    make_live_server: Callable[..., LiveServer],
    engine: Engine,
    provider: OidcProvider,
    tmp_path: Path,
) -> LiveServer:
    with Session(engine) as session:
        session.add(Project(name="web", slug="web"))
        session.commit()
    config = write_sso_file(tmp_path / "sso.toml", [provider.provider_entry()])
    return make_live_server(**auth_overrides(oidc_config=config))


def test_sign_in_through_the_provider_then_sign_out_of_both(
    server: LiveServer, provider: OidcProvider, make_page: Callable[..., BrowserPage]
) -> None:
    view = make_page()
    page = view.page
    page.goto(server.url + "/projects")
    page.wait_for_url(re.compile(r"/login\?next=%2Fprojects$"))

    page.get_by_role("link", name="Sign in with Test ID").click()
    page.wait_for_url(re.compile(re.escape(provider.issuer) + r"/interaction/"))
    page.locator("input[name=login]").fill("lead")
    page.locator("input[name=password]").fill("anything")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # consent, on the provider's page
    page.wait_for_url(server.url + "/projects")
    assert "web" in page.locator("main").inner_text()  # owner of web, from the qa-leads group

    page.locator(".user-menu summary").click()
    assert "lead" in page.locator(".user-menu").inner_text()
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(re.compile(re.escape(provider.issuer) + r"/session/end"))
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(server.url + "/login")
    assert page.get_by_role("heading", name="Sign in to Playdeck").is_visible()
    page.goto(server.url + "/projects")
    page.wait_for_url(re.compile(r"/login\?next=%2Fprojects$"))  # signed out here too
    assert [e for e in view.errors if "Content Security Policy" in e] == []


def test_an_invitee_accepts_through_the_provider_in_a_real_browser(
    server: LiveServer,
    provider: OidcProvider,
    make_page: Callable[..., BrowserPage],
    engine: Engine,
) -> None:
    with Session(engine) as session:
        issued = invitations.create_invitation(
            session,
            principal=Principal.builtin_admin(),
            settings=server.settings,
            data=InvitationCreate(email="ada@example.com"),
            base_url=server.url,
        )
        session.commit()
    view = make_page()
    page = view.page
    page.goto(issued.url)
    assert page.get_by_text("ada@example.com").first.is_visible()
    page.get_by_role("button", name="Accept with Test ID").click()
    page.wait_for_url(re.compile(re.escape(provider.issuer) + r"/interaction/"))
    page.locator("input[name=login]").fill("ada")
    page.locator("input[name=password]").fill("anything")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(server.url + "/")
    assert "Your account is ready" in page.locator("main").inner_text()
    page.locator(".user-menu summary").click()
    assert "ada" in page.locator(".user-menu").inner_text()
    assert [e for e in view.errors if "Content Security Policy" in e] == []
    page.goto(issued.url)  # used: the page says so and offers nothing
    assert "already used" in page.locator("main").inner_text()
