"""User administration: list, create, read, update, delete; the last-admin guards; what
deactivation ends; the JWT login API's and the PhenX dashboard's paths; audit with old and new
values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from playdeck.cli.main import app as cli
from playdeck.models import AuditEvent, RefreshToken, User, UserSession

from .support import (
    ADMIN,
    NEW_PASSWORD,
    NEWCOMER,
    OUTSIDER,
    OWNER,
    PASSWORD,
    REPORTER,
    VIEWER,
    World,
    add_user,
    as_,
    bearer,
    events,
    fresh,
)

USERS = "/api/admin/users"


def _user(db: Session, user_id: int) -> User:
    user = fresh(db).get(User, user_id)
    assert user is not None
    return user


def test_admin_lists_users_with_search_role_and_activity_filters_and_pages(
    api: TestClient, world: World
) -> None:
    headers = as_(api, ADMIN)
    everyone = api.get(USERS, headers=headers).json()
    assert [u["username"] for u in everyone["items"]] == list(world.users)
    assert everyone["next_cursor"] is None
    assert everyone["items"][0]["is_superuser"] is False
    admins = api.get(USERS, params={"role": "admin"}, headers=headers).json()["items"]
    assert [(u["username"], u["is_superuser"]) for u in admins] == [("admin", True)]
    found = api.get(USERS, params={"q": "ROJECT_"}, headers=headers).json()["items"]
    assert [u["username"] for u in found] == ["project_admin"]
    by_email = api.get(USERS, params={"q": "carol@"}, headers=headers).json()["items"]
    assert [u["username"] for u in by_email] == [NEWCOMER]
    assert api.get(USERS, params={"q": "%"}, headers=headers).json()["items"] == []
    api.patch(f"{USERS}/{world.users[VIEWER]}", json={"is_active": False}, headers=headers)
    inactive = api.get(USERS, params={"active": "false"}, headers=headers).json()["items"]
    assert [u["username"] for u in inactive] == [VIEWER]

    pages, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get(USERS, params=params, headers=headers).json()
        pages.append([u["username"] for u in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [name for page in pages for name in page] == list(world.users)
    assert all(len(page) <= 3 for page in pages) and len(pages) == 3
    assert api.get(USERS, params={"role": "root"}, headers=headers).status_code == 422
    assert api.get(USERS, params={"cursor": "nope"}, headers=headers).status_code == 422


def test_admin_creates_users_with_a_role_or_is_superuser(
    api: TestClient, world: World, db: Session
) -> None:
    headers = as_(api, ADMIN)
    made = api.post(
        USERS,
        json={
            "username": "dave",
            "password": NEW_PASSWORD,
            "full_name": "Dave D",
            "email": "d@x.io",
        },
        headers=headers,
    )
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "user" and made.json()["name"] == "Dave D"
    boss = api.post(
        USERS,
        json={"username": "erin", "password": NEW_PASSWORD, "is_superuser": True},
        headers=headers,
    )
    assert boss.status_code == 201 and boss.json()["role"] == "admin"
    ci = api.post(
        USERS,
        json={"username": "ci", "password": NEW_PASSWORD, "role": "reporter"},
        headers=headers,
    )
    assert ci.json()["role"] == "reporter"
    created = events(db, "user.created")
    assert [(e.target_name, e.details["role"], e.details["via"]) for e in created] == [
        ("dave", "user", "admin"),
        ("erin", "admin", "admin"),
        ("ci", "reporter", "admin"),
    ]
    assert created[0].actor_name == ADMIN
    # the new account signs in
    assert (
        api.post("/api/auth/login", json={"username": "dave", "password": NEW_PASSWORD}).status_code
        == 200
    )


def test_user_creation_refuses_weak_passwords_taken_names_and_mixed_roles(
    api: TestClient, world: World, db: Session
) -> None:
    headers = as_(api, ADMIN)
    weak = api.post(USERS, json={"username": "dave", "password": "password"}, headers=headers)
    assert weak.status_code == 422
    taken = api.post(USERS, json={"username": "OWNER", "password": NEW_PASSWORD}, headers=headers)
    assert taken.status_code == 409
    mixed = api.post(
        USERS,
        json={"username": "dave", "password": NEW_PASSWORD, "role": "user", "is_superuser": True},
        headers=headers,
    )
    assert mixed.status_code == 422
    unknown = api.post(
        USERS, json={"username": "dave", "password": NEW_PASSWORD, "admin": True}, headers=headers
    )
    assert unknown.status_code == 422
    assert fresh(db).scalar(select(func.count()).select_from(User)) == len(world.users)


def test_get_one_user_and_404_for_an_unknown_id(api: TestClient, world: World) -> None:
    headers = as_(api, ADMIN)
    response = api.get(f"{USERS}/{world.users[OWNER]}", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == OWNER and body["role"] == "user" and body["is_superuser"] is False
    assert "password_hash" not in body and "password" not in response.text
    assert api.get(f"{USERS}/999999", headers=headers).status_code == 404
    assert api.put(f"{USERS}/999999", json={"name": "x"}, headers=headers).status_code == 404
    assert api.delete(f"{USERS}/999999", headers=headers).status_code == 404


def test_is_superuser_promotes_and_demotes_audited_with_old_and_new_values(
    api: TestClient, world: World, db: Session
) -> None:
    headers = as_(api, ADMIN)
    url = f"/admin/users/{world.users[OUTSIDER]}"  # the JWT login API's path, PUT as its curl does
    up = api.put(url, json={"is_active": True, "is_superuser": True}, headers=headers)
    assert up.status_code == 200, up.text
    assert up.json()["is_superuser"] is True and up.json()["role"] == "admin"
    down = api.put(url, json={"is_active": True, "is_superuser": False}, headers=headers)
    assert down.json()["role"] == "user"
    # is_superuser false leaves a reporter a reporter
    reporter = api.put(
        f"/admin/users/{world.users[REPORTER]}", json={"is_superuser": False}, headers=headers
    )
    assert reporter.json()["role"] == "reporter"
    changes = [e.details["changes"] for e in events(db, "user.updated")]
    assert changes == [{"role": ["user", "admin"]}, {"role": ["admin", "user"]}]
    assert (
        api.put(url, json={"role": "user", "is_superuser": True}, headers=headers).status_code
        == 422
    )


def test_patch_changes_name_and_email_and_refuses_a_taken_email(
    api: TestClient, world: World, db: Session
) -> None:
    headers = as_(api, ADMIN)
    url = f"{USERS}/{world.users[NEWCOMER]}"
    changed = api.patch(url, json={"name": "Carol C.", "email": "C@New.example"}, headers=headers)
    assert changed.status_code == 200
    assert (
        changed.json()["email"] == "c@new.example" and changed.json()["display_name"] == "Carol C."
    )
    taken = api.patch(url, json={"email": "owner@example.com"}, headers=headers)
    assert taken.status_code == 409
    cleared = api.patch(url, json={"name": None}, headers=headers)
    assert cleared.json()["display_name"] is None and cleared.json()["email"] == "c@new.example"
    assert api.patch(url, json={"email": "not an email"}, headers=headers).status_code == 422
    (first, second) = [e.details["changes"] for e in events(db, "user.updated")]
    assert first == {
        "email": ["carol@example.com", "c@new.example"],
        "name": ["Carol", "Carol C."],
    }
    assert second == {"name": ["Carol C.", None]}


def _sign_in(api: TestClient, username: str) -> dict[str, Any]:
    response = api.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200
    api.cookies.clear()
    body: dict[str, Any] = response.json()
    return body


def test_deactivation_ends_sessions_refresh_tokens_and_api_keys_and_reactivation_revives_none(
    api: TestClient, world: World, db: Session, make_api_key: Callable[..., str]
) -> None:
    victim = world.users[OWNER]
    tokens = _sign_in(api, OWNER)
    key = make_api_key(_user(db, victim))
    assert api.get("/api/auth/me", headers=bearer(key)).status_code == 200
    admin = as_(api, ADMIN)

    off = api.patch(f"{USERS}/{victim}", json={"is_active": False}, headers=admin)
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert api.get("/api/auth/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert api.get("/api/auth/me", headers=bearer(key)).status_code == 401
    refresh = api.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401
    fresh(db)
    assert (
        db.scalar(
            select(func.count()).select_from(UserSession).where(UserSession.user_id == victim)
        )
        == 0
    )
    assert db.scalar(select(func.count()).select_from(RefreshToken)) == db.scalar(
        select(func.count())
        .select_from(RefreshToken)
        .join(UserSession, UserSession.id == RefreshToken.session_id)
        .where(UserSession.user_id != victim)
    )
    login = api.post("/api/auth/login", json={"username": OWNER, "password": PASSWORD})
    # The right password of a deactivated account is told so (docs/decisions.md); it signs in
    # nothing.
    assert (login.status_code, login.json()["code"]) == (403, "account_deactivated")

    on = api.patch(f"{USERS}/{victim}", json={"is_active": True}, headers=admin)
    assert on.json()["is_active"] is True
    assert api.get("/api/auth/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert (
        api.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code
        == 401
    )
    assert api.get("/api/auth/me", headers=bearer(key)).status_code == 401  # revoked for good
    assert (
        api.post("/api/auth/login", json={"username": OWNER, "password": PASSWORD}).status_code
        == 200
    )

    (deactivated,) = events(db, "user.deactivated")
    assert deactivated.details["is_active"] == [True, False]
    assert deactivated.details["sessions_ended"] == 1
    assert [e.details["changes"] for e in events(db, "user.updated")] == [
        {"is_active": [False, True]}
    ]


def test_the_last_active_admin_cannot_be_deactivated_demoted_or_deleted_even_by_themselves(
    api: TestClient, world: World, db: Session
) -> None:
    me = world.users[ADMIN]
    headers = as_(api, ADMIN)
    for method, url, body in (
        ("PATCH", f"{USERS}/{me}", {"is_active": False}),
        ("PATCH", f"{USERS}/{me}", {"role": "user"}),
        ("PUT", f"/admin/users/{me}", {"is_superuser": False}),
        ("DELETE", f"{USERS}/{me}", None),
        ("DELETE", f"/api/users/{me}", None),
    ):
        response = api.request(method, url, json=body, headers=headers)
        assert response.status_code == 409, (method, url, body)
        assert response.json()["code"] == "last_admin"
    # an inactive admin does not count as the other one
    with Session(db.get_bind()) as session:
        add_user(session, "dormant", "admin").is_active = False
        session.commit()
    assert api.patch(f"{USERS}/{me}", json={"role": "user"}, headers=headers).status_code == 409
    user = _user(db, me)
    assert (user.role, user.is_active) == ("admin", True)
    assert events(db, "user.updated") == [] and events(db, "user.deleted") == []


def test_with_another_active_admin_an_admin_may_step_down(
    api: TestClient, world: World, db: Session
) -> None:
    headers = as_(api, ADMIN)
    other = api.patch(f"{USERS}/{world.users[OUTSIDER]}", json={"role": "admin"}, headers=headers)
    assert other.status_code == 200
    me = api.patch(f"{USERS}/{world.users[ADMIN]}", json={"role": "user"}, headers=headers)
    assert me.status_code == 200
    # the remaining admin is now the last one
    last = api.delete(f"{USERS}/{world.users[OUTSIDER]}", headers=as_(api, OUTSIDER))
    assert last.status_code == 409
    assert _user(db, world.users[ADMIN]).role == "user"


def test_the_only_owner_of_a_project_cannot_be_deleted(
    api: TestClient, world: World, db: Session
) -> None:
    headers = as_(api, ADMIN)
    refused = api.delete(f"{USERS}/{world.users[OWNER]}", headers=headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "last_owner" and "Alpha" in refused.json()["detail"]
    api.patch(
        f"/api/projects/{world.a.id}/members/{world.users[VIEWER]}",
        json={"role": "owner"},
        headers=headers,
    )
    assert api.delete(f"{USERS}/{world.users[OWNER]}", headers=headers).status_code == 204
    assert fresh(db).get(User, world.users[OWNER]) is None
    (deleted,) = events(db, "user.deleted")
    assert deleted.target_name == OWNER and deleted.actor_name == ADMIN


def test_a_new_password_from_an_admin_ends_the_users_sessions(
    api: TestClient, world: World, db: Session
) -> None:
    tokens = _sign_in(api, VIEWER)
    response = api.put(
        f"{USERS}/{world.users[VIEWER]}", json={"password": NEW_PASSWORD}, headers=as_(api, ADMIN)
    )
    assert response.status_code == 200
    assert api.get("/api/auth/me", headers=bearer(tokens["access_token"])).status_code == 401
    assert (
        api.post("/api/auth/login", json={"username": VIEWER, "password": NEW_PASSWORD}).status_code
        == 200
    )
    assert len(events(db, "user.password_reset")) == 1
    stored = fresh(db).scalars(select(AuditEvent.details)).all()
    assert all(NEW_PASSWORD not in str(details) for details in stored)


def test_phenx_users_api_is_for_administrators_only(
    api: TestClient, world: World, db: Session
) -> None:
    # The PhenX dashboard listed users publicly; Playdeck does not.
    assert api.get("/api/users").status_code == 401
    assert api.get("/api/users", headers=as_(api, OWNER)).status_code == 403
    admin = as_(api, ADMIN)
    listed = api.get("/api/users", headers=admin)
    assert listed.status_code == 200
    assert [u["username"] for u in listed.json()] == list(world.users)
    made = api.post(
        "/api/users",
        json={"username": "ci", "password": NEW_PASSWORD, "role": "reporter", "name": "CI"},
        headers=admin,
    )
    assert made.status_code == 201 and made.json()["role"] == "reporter"
    assert api.delete(f"/api/users/{made.json()['id']}", headers=admin).status_code == 204
    assert fresh(db).get(User, made.json()["id"]) is None


HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _cookie(api: TestClient, username: str) -> str:
    """A browser session of ``username``: the cookie a sign-in sets."""
    response = api.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    api.cookies.clear()
    return str(response.cookies["playdeck_session"])


def _get(api: TestClient, cookie: str | None, headers: dict[str, str]) -> Any:
    api.cookies.clear()
    if cookie:
        api.cookies.set("playdeck_session", cookie)
    try:
        return api.get("/admin/users", headers=headers, follow_redirects=False)
    finally:
        api.cookies.clear()


def test_admin_users_path_gives_json_to_api_callers_and_the_page_to_browsers(
    api: TestClient, world: World
) -> None:
    browser = _cookie(api, ADMIN)
    token = as_(api, ADMIN)
    page = _get(api, browser, HTML)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for name, user_id in world.users.items():
        assert f'id="user-{user_id}" data-username="{name}"' in page.text
    for cookie, headers in (
        (browser, {**token, **HTML}),  # a bearer token means an API client
        (None, {**token, **HTML}),
        (browser, {"Accept": "*/*"}),  # curl
        (browser, {"Accept": "application/json"}),  # the dashboard's own fetch()
    ):
        response = _get(api, cookie, headers)
        assert response.headers["content-type"] == "application/json", headers
        assert len(response.json()) == len(world.users)
    # the page is for administrators only, like the JSON
    denied = _get(api, _cookie(api, VIEWER), HTML)
    assert denied.status_code == 403 and "data-username=" not in denied.text
    assert _get(api, None, HTML).status_code in (303, 401)  # a browser is sent to sign in


def test_the_cli_refuses_to_deactivate_the_last_admin_too(
    world: World, db: Session, database_url: str, shared_settings: Any
) -> None:
    env = {
        "PLAYDECK_DATABASE_URL": database_url,
        "PLAYDECK_DATA_DIR": str(shared_settings.data_dir),
        "PLAYDECK_REQUIRE_AUTH": "false",
    }
    result = CliRunner().invoke(cli, ["users", "deactivate", ADMIN], env=env)
    assert result.exit_code == 1
    assert "last active administrator" in result.output
    assert _user(db, world.users[ADMIN]).is_active is True
    done = CliRunner().invoke(cli, ["users", "deactivate", OWNER], env=env)
    assert done.exit_code == 0, done.output
    assert _user(db, world.users[OWNER]).is_active is False
