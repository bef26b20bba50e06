"""``/projects/{slug}/members``: the Members tab, its controls for each role, and its actions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.authz.permissions import ProjectRole
from playdeck.models import Project, ProjectMember, User
from playdeck.settings import Settings

from .admin_support import (
    Browser,
    MakeClient,
    alert,
    browser_for,
    events,
    fresh,
    make_project,
    notices,
)
from .conftest import HTML, get_page, parse
from .identity_support import auth_overrides, create_user

MEMBERS = "/projects/shop/members"


@dataclass
class World:
    project: Project
    users: dict[str, User]
    settings: Settings
    make_client: MakeClient

    def browser(self, login: str) -> Browser:
        return browser_for(self.make_client, self.settings, login)

    def id(self, name: str) -> int:
        return self.users[name].id


@pytest.fixture
def world(engine: Engine, make_settings: Callable[..., Settings], make_client: MakeClient) -> World:
    settings = make_settings(**auth_overrides())
    users = {
        name: create_user(engine, settings, name, role=role, email=f"{name}@example.com")
        for name, role in (
            ("root", "admin"),
            ("olga", "user"),  # owner
            ("paul", "user"),  # project admin
            ("mia", "user"),  # member
            ("vic", "user"),  # viewer
            ("nick", "user"),  # no membership yet
            ("ci", "reporter"),
        )
    }
    project = make_project(
        engine,
        "Shop",
        olga=ProjectRole.OWNER,
        paul=ProjectRole.ADMIN,
        mia=ProjectRole.MEMBER,
        vic=ProjectRole.VIEWER,
    )
    return World(project=project, users=users, settings=settings, make_client=make_client)


def _roles(db: Session, project: Project) -> dict[str, str]:
    rows = fresh(db).execute(
        select(User.username, ProjectMember.role)
        .join(ProjectMember, ProjectMember.user_id == User.id)
        .where(ProjectMember.project_id == project.id)
    )
    return {username: role for username, role in rows}


def _main(html: str) -> str:
    return html.split('id="main"', 1)[1]


def _row(html: str, user_id: int) -> str:
    return "<tr " + html.split(f'id="member-{user_id}"', 1)[1].split("</tr>", 1)[0]


def _row_roles(html: str, user_id: int) -> list[str]:
    """The roles offered in the member's role select (empty: no role control)."""
    return [e.attrs["value"] for e in parse(_row(html, user_id)).all("option")]


def _can_remove(html: str, user_id: int) -> bool:
    return any(link.endswith(f"/{user_id}/remove") for link in parse(_row(html, user_id)).links())


# --- who sees what -----------------------------------------------------------------------------


def test_readers_see_the_members_tab_anonymous_visitors_do_not(
    world: World, make_client: MakeClient, make_settings: Callable[..., Settings]
) -> None:
    viewer = world.browser("vic")
    tabs = parse(viewer.get("/projects/shop").text.split('class="tabs"', 1)[1]).links()
    assert MEMBERS in tabs

    # Public read opens the project to anonymous visitors, never its members (user data).
    anonymous = make_client(make_settings(**auth_overrides(public_read=True)))
    _response, page = get_page(anonymous, "/projects/shop")
    assert MEMBERS not in page.links()
    response = anonymous.get(MEMBERS, headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fprojects%2Fshop%2Fmembers"


@pytest.mark.parametrize("login", ["vic", "mia"])
def test_viewers_and_members_see_the_list_without_controls(world: World, login: str) -> None:
    response = world.browser(login).get(MEMBERS)
    assert response.status_code == 200
    main = _main(response.text)
    page = parse(main)
    listed = [e.attrs["data-username"] for e in page.all("tr") if "data-username" in e.attrs]
    assert listed == ["olga", "paul", "mia", "vic"]  # strongest role first
    assert not page.all("form") and not page.all("select")
    assert not [link for link in page.links() if "/remove" in link]
    assert "Add a member" not in page.text
    current = parse(response.text.split('class="tabs"', 1)[1]).all("a", href=MEMBERS)
    assert current[0].attrs.get("aria-current") == "page"


def test_project_admins_get_controls_except_over_owners(world: World) -> None:
    html = world.browser("paul").get(MEMBERS).text
    assert _add_roles(html) == ["admin", "member", "viewer"]
    assert _row_roles(html, world.id("olga")) == [] and not _can_remove(html, world.id("olga"))
    assert _row_roles(html, world.id("mia")) == ["admin", "member", "viewer"]
    assert _can_remove(html, world.id("mia"))
    assert _row_roles(html, world.id("paul")) == ["admin", "member", "viewer"]  # never up


def _add_roles(html: str) -> list[str]:
    form = html.split('id="add-member"', 1)[1].split("</form>", 1)[0]
    return [e.attrs["value"] for e in parse(form).all("option")]


def test_owners_may_grant_owner_and_the_only_owner_is_kept(world: World) -> None:
    html = world.browser("olga").get(MEMBERS).text
    assert _add_roles(html) == ["owner", "admin", "member", "viewer"]
    assert _row_roles(html, world.id("paul")) == ["owner", "admin", "member", "viewer"]
    assert _row_roles(html, world.id("olga")) == [] and not _can_remove(html, world.id("olga"))
    assert "the only owner" in parse(_row(html, world.id("olga"))).text


def test_outsiders_get_404_for_the_hidden_project(world: World, db: Session) -> None:
    nick = world.browser("nick")
    for url in (MEMBERS, f"{MEMBERS}/{world.id('mia')}/remove"):
        assert nick.get(url).status_code == 404, url
    assert nick.post(f"{MEMBERS}/add", user="nick", role="viewer").status_code == 404
    assert "nick" not in _roles(db, world.project)


def test_readers_cannot_change_members(world: World, db: Session) -> None:
    before = _roles(db, world.project)
    vic = world.browser("vic")
    assert vic.post(f"{MEMBERS}/add", user="nick", role="viewer").status_code == 403
    assert vic.post(f"{MEMBERS}/{world.id('mia')}/role", role="viewer").status_code == 403
    assert vic.get(f"{MEMBERS}/{world.id('mia')}/remove").status_code == 403
    assert vic.post(f"{MEMBERS}/{world.id('mia')}/remove").status_code == 403
    assert _roles(db, world.project) == before


# --- adding --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["nick", "NICK@example.com"])
def test_add_a_member_by_username_or_email(world: World, db: Session, who: str) -> None:
    paul = world.browser("paul")
    response = paul.post(f"{MEMBERS}/add", user=who, role="viewer")
    assert response.status_code == 303 and response.headers["location"] == MEMBERS
    assert _roles(db, world.project)["nick"] == "viewer"
    html = paul.get(MEMBERS).text
    assert "Member added." in notices(html)
    assert _row_roles(html, world.id("nick")) == ["admin", "member", "viewer"]
    (event,) = events(db, "member.added")[-1:]
    assert event.actor_name == "paul" and event.target_id == world.id("nick")


ADD_REFUSALS: list[tuple[dict[str, Any], int, str]] = [
    ({"user": "nobody", "role": "viewer"}, 404, "No user is called “nobody”"),
    ({"user": "mia", "role": "viewer"}, 409, "already a member"),
    ({"user": "nick", "role": "owner"}, 403, "does not allow"),  # only owners grant owner
    ({"user": "ci", "role": "viewer"}, 422, "Reporter accounts"),
    ({"user": " ", "role": "viewer"}, 422, "Enter the username or email"),
    ({"user": "nick", "role": "boss"}, 422, "Role"),
]


def test_add_refusals_are_shown_with_the_form(world: World, db: Session) -> None:
    before = _roles(db, world.project)
    paul = world.browser("paul")
    for form, status, message in ADD_REFUSALS:
        response = paul.post(f"{MEMBERS}/add", **form)
        assert response.status_code == status, form
        assert message in alert(response.text), form
        typed = parse(response.text).all("input", id="member-user")[0].attrs["value"]
        assert typed == form["user"]
    assert _roles(db, world.project) == before


# --- changing roles ----------------------------------------------------------------------------


def test_change_a_role(world: World, db: Session) -> None:
    paul = world.browser("paul")
    response = paul.post(f"{MEMBERS}/{world.id('mia')}/role", role="viewer")
    assert response.status_code == 303
    assert _roles(db, world.project)["mia"] == "viewer"
    assert "Member role changed." in notices(paul.get(MEMBERS).text)
    assert events(db, "member.role_changed")[-1].details["role"] == ["member", "viewer"]


ROLE_REFUSALS = [
    ("paul", "olga", "viewer", 403, "does not allow"),  # admins do not touch owners
    ("paul", "mia", "owner", 403, "does not allow"),  # nor grant owner
    ("mia", "vic", "member", 403, "does not allow"),  # members manage nobody
    ("olga", "olga", "admin", 409, "at least one owner"),  # the last owner stays
]


def test_role_refusals_are_shown_on_the_page(world: World, db: Session) -> None:
    before = _roles(db, world.project)
    browsers = {login: world.browser(login) for login in ("paul", "mia", "olga")}
    for login, target, role, status, message in ROLE_REFUSALS:
        response = browsers[login].post(f"{MEMBERS}/{world.id(target)}/role", role=role)
        assert response.status_code == status, (login, target)
        shown = alert(response.text) if status == 409 else parse(response.text).text
        assert message in shown, (login, target)
    assert _roles(db, world.project) == before


def test_nobody_raises_their_own_role(world: World, db: Session) -> None:
    response = world.browser("paul").post(f"{MEMBERS}/{world.id('paul')}/role", role="owner")
    assert response.status_code == 403  # owner needs an owner, raising needs someone else
    assert _roles(db, world.project)["paul"] == "admin"


# --- removing ----------------------------------------------------------------------------------


def test_remove_asks_first(world: World, db: Session) -> None:
    paul = world.browser("paul")
    confirm = paul.get(f"{MEMBERS}/{world.id('vic')}/remove")
    assert confirm.status_code == 200
    assert "Remove vic from Shop?" in parse(confirm.text).text
    assert "vic" in _roles(db, world.project)
    response = paul.post(f"{MEMBERS}/{world.id('vic')}/remove")
    assert response.status_code == 303 and response.headers["location"] == MEMBERS
    assert "vic" not in _roles(db, world.project)
    assert paul.get(f"{MEMBERS}/{world.id('vic')}/remove").status_code == 404
    assert world.browser("vic").get(MEMBERS).status_code == 404  # no longer a reader


def test_leaving_a_project_goes_to_the_project_list(world: World, db: Session) -> None:
    paul = world.browser("paul")
    confirm = parse(paul.get(f"{MEMBERS}/{world.id('paul')}/remove").text).text
    assert "This is you" in confirm
    response = paul.post(f"{MEMBERS}/{world.id('paul')}/remove")
    assert response.headers["location"] == "/projects"
    assert "paul" not in _roles(db, world.project)


def test_the_last_owner_cannot_be_removed(world: World, db: Session) -> None:
    root = world.browser("root")  # even by an administrator
    html = root.get(MEMBERS).text
    assert not _can_remove(html, world.id("olga"))
    response = root.post(f"{MEMBERS}/{world.id('olga')}/remove")
    assert response.status_code == 409 and "at least one owner" in alert(response.text)
    assert "Remove olga from Shop?" in parse(response.text).text
    assert _roles(db, world.project)["olga"] == "owner"


def test_forged_posts_are_refused(world: World, db: Session) -> None:
    before = _roles(db, world.project)
    paul = world.browser("paul")
    assert paul.post(f"{MEMBERS}/{world.id('vic')}/remove", token=False).status_code == 403
    assert paul.post(f"{MEMBERS}/add", token=False, user="nick", role="admin").status_code == 403
    assert _roles(db, world.project) == before


def test_with_authentication_off(
    client: TestClient, engine: Engine, settings: Settings, db: Session
) -> None:
    create_user(engine, settings, "alice")
    project = make_project(engine, "Shop")
    _response, page = get_page(client, MEMBERS)
    assert "No members yet" in page.text and "Add a member" in page.text
    response = client.post(
        f"{MEMBERS}/add",
        data={"user": "alice", "role": "owner"},
        headers=HTML,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert _roles(db, project) == {"alice": "owner"}


def _has_members_tab(html: str) -> bool:
    return 'href="/projects/shop/members"' in html


def test_members_tab_shows_only_where_members_may_be_read(
    engine: Engine, make_settings: Callable[..., Settings], make_client: MakeClient
) -> None:
    """With public read on, everyone reads the project, but its members only its members."""
    settings = make_settings(**auth_overrides(public_read=True))
    for name in ("vic", "nick"):
        create_user(engine, settings, name, role="user", email=f"{name}@example.com")
    make_project(engine, "Shop", vic=ProjectRole.VIEWER)
    pages = ("/projects/shop", "/projects/shop/tests", "/projects/shop/flaky")

    anonymous = make_client(settings)
    outsider = browser_for(make_client, settings, "nick")
    viewer = browser_for(make_client, settings, "vic")
    for page in pages:
        assert not _has_members_tab(anonymous.get(page, headers=HTML).text), page
        outsider_page = outsider.get(page)
        assert outsider_page.status_code == 200
        assert not _has_members_tab(outsider_page.text), page
        assert _has_members_tab(viewer.get(page).text), page
    assert outsider.get(MEMBERS).status_code == 403
