"""The one-time link pages: issuing an invitation or a reset link from the dashboard, and
``/invite`` and ``/reset-password`` where the link lands."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.authz.permissions import ProjectRole
from playdeck.models import ProjectMember
from playdeck.settings import Settings

from .admin_support import Browser, MakeClient, alert, browser_for, events, make_project, notices
from .conftest import HTML, parse
from .identity_support import NEW_PASSWORD, PASSWORD, auth_overrides, create_user, hidden_value


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(**auth_overrides())


@pytest.fixture
def admin(
    make_client: MakeClient, auth_settings: Settings, engine: Engine, settings: Settings
) -> Browser:
    create_user(engine, settings, "root", role="admin")
    return browser_for(make_client, auth_settings, "root")


def _issued_link(html: str) -> str:
    fields = parse(html).all("input", id="issued-link")
    assert fields, parse(html).text[:500]
    return fields[0].attrs["value"]


def _landing(client: TestClient, link: str) -> str:
    """Open the link as the invitee's browser does; the form's page."""
    page = client.get(link.removeprefix("http://testserver"), headers=HTML)
    assert page.status_code == 200, page.text[:300]
    return str(page.text)


def test_an_admin_invites_from_the_users_page_and_the_invitee_joins(
    admin: Browser,
    make_client: MakeClient,
    auth_settings: Settings,
    engine: Engine,
    db: Session,
) -> None:
    web = make_project(engine, "Web")
    users_page = admin.get("/admin/users")
    assert 'id="invite"' in users_page.text
    issued = admin.post(
        "/admin/users/invite",
        email="dana@example.com",
        role="user",
        project="web",
        project_role="viewer",
    )
    assert issued.status_code == 200, issued.text[:300]
    assert issued.headers["cache-control"] == "no-store"
    link = _issued_link(issued.text)
    assert "/invite?token=pdi_" in link

    invitee = make_client(auth_settings)
    html = _landing(invitee, link)
    assert "dana@example.com" in parse(html).text
    form = {
        "csrf_token": hidden_value(html),
        "token": hidden_value(html, "token"),
        "username": "dana",
        "name": "Dana",
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
    }
    mismatch = invitee.post("/invite", data={**form, "password_confirm": "x"}, headers=HTML)
    assert mismatch.status_code == 422
    assert "do not match" in alert(mismatch.text)
    done = invitee.post("/invite", data=form, headers=HTML, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/login")
    assert "Your account is ready" in notices(invitee.get("/login", headers=HTML).text)

    role = db.scalars(select(ProjectMember.role).where(ProjectMember.project_id == web.id)).one()
    assert role == "viewer"
    again = invitee.get(link.removeprefix("http://testserver"), headers=HTML)
    assert again.status_code == 404
    assert "invalid, already used or expired" in alert(again.text)
    assert 'name="password"' not in again.text  # no form for a dead link
    assert len(events(db, "invitation.accepted")) == 1


def test_an_admin_issues_a_reset_link_and_the_user_sets_a_password(
    admin: Browser,
    make_client: MakeClient,
    auth_settings: Settings,
    engine: Engine,
    settings: Settings,
) -> None:
    alice = create_user(engine, settings, "alice")
    reset_page = admin.get(f"/admin/users/{alice.id}/password")
    assert f'action="/admin/users/{alice.id}/reset-link"' in reset_page.text
    issued = admin.post(f"/admin/users/{alice.id}/reset-link")
    assert issued.status_code == 200, issued.text[:300]
    link = _issued_link(issued.text)

    browser = make_client(auth_settings)
    html = _landing(browser, link)
    form = {
        "csrf_token": hidden_value(html),
        "token": hidden_value(html, "token"),
        "password": NEW_PASSWORD,
        "password_confirm": NEW_PASSWORD,
    }
    weak_password = {"password": "alice", "password_confirm": "alice"}
    weak = browser.post("/reset-password", data={**form, **weak_password}, headers=HTML)
    assert weak.status_code == 422
    done = browser.post("/reset-password", data=form, headers=HTML, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/login")
    signed_in = browser.post(
        "/api/auth/login", json={"username": "alice", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 200
    old = browser.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert old.status_code == 401


def test_a_project_owner_invites_from_the_members_tab(
    make_client: MakeClient,
    auth_settings: Settings,
    engine: Engine,
    settings: Settings,
) -> None:
    create_user(engine, settings, "olga")
    create_user(engine, settings, "pat")
    make_project(engine, "Shop", olga=ProjectRole.OWNER, pat=ProjectRole.ADMIN)
    owner = browser_for(make_client, auth_settings, "olga")
    assert 'id="invite-member"' in owner.get("/projects/shop/members").text
    issued = owner.post("/projects/shop/members/invite", role="owner")
    assert issued.status_code == 200, issued.text[:300]
    assert "/invite?token=pdi_" in _issued_link(issued.text)

    project_admin = browser_for(make_client, auth_settings, "pat")
    assert 'id="invite-member"' not in project_admin.get("/projects/shop/members").text
    refused = project_admin.post("/projects/shop/members/invite", role="member")
    assert refused.status_code == 403


def test_a_refused_invitation_says_why(admin: Browser, db: Session) -> None:
    refused = admin.post("/admin/users/invite", email="x@example.com", project="nope")
    assert refused.status_code == 422
    assert "No project 'nope'" in alert(refused.text)
    assert events(db, "invitation.created") == []


def test_an_unknown_link_shows_no_form(
    make_client: MakeClient, auth_settings: Settings, engine: Engine
) -> None:
    del engine
    client = make_client(auth_settings)
    for path in ("/invite?token=pdi_nope", "/reset-password?token=pdp_nope"):
        page = client.get(path, headers=HTML)
        assert page.status_code == 404
        assert "Ask whoever sent it for a new link" in page.text
        assert 'name="password"' not in page.text
