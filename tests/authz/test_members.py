"""The members API: adding by id, username or email; the owner rules; audit."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from playdeck.models import ProjectMember, User

from .support import (
    ADMIN,
    MEMBER,
    NEWCOMER,
    OUTSIDER,
    OWNER,
    PROJECT_ADMIN,
    REPORTER,
    VIEWER,
    World,
    as_,
    events,
    fresh,
    role_in,
)

PLAYWRIGHT_JSON = Path(__file__).parents[1] / "data" / "playwright" / "report.json"

MEMBERS = "/api/projects/{}/members"


def test_members_are_listed_strongest_role_first_to_anyone_who_reads_the_project(
    api: TestClient, world: World
) -> None:
    response = api.get(MEMBERS.format(world.a.id), headers=as_(api, VIEWER))
    assert response.status_code == 200
    listed = [(m["username"], m["role"]) for m in response.json()]
    assert listed == [
        ("owner", "owner"),
        ("project_admin", "admin"),
        ("member", "member"),
        ("viewer", "viewer"),
    ]
    assert response.json()[0]["user_id"] == world.users[OWNER]


def test_owner_adds_members_by_user_id_username_or_email(
    api: TestClient, world: World, db: Session
) -> None:
    headers = as_(api, OWNER)
    url = MEMBERS.format(world.a.id)
    by_id = api.post(
        url, json={"user_id": world.users[NEWCOMER], "role": "member"}, headers=headers
    )
    assert by_id.status_code == 201, by_id.text
    assert by_id.json()["role"] == "member" and by_id.json()["username"] == NEWCOMER
    by_name = api.post(url, json={"username": "OUTSIDER", "role": "viewer"}, headers=headers)
    assert by_name.status_code == 201, by_name.text
    api.delete(f"{url}/{world.users[OUTSIDER]}", headers=headers)
    by_email = api.post(
        url, json={"email": "Outsider@Example.com", "role": "admin"}, headers=headers
    )
    assert by_email.status_code == 201, by_email.text
    assert role_in(db, world.a.id, world.users[NEWCOMER]) == "member"
    assert role_in(db, world.a.id, world.users[OUTSIDER]) == "admin"
    added = events(db, "member.added")
    assert [(e.target_name, e.details["role"]) for e in added] == [
        (NEWCOMER, "member"),
        (OUTSIDER, "viewer"),
        (OUTSIDER, "admin"),
    ]
    assert added[0].actor_name == OWNER and added[0].details["project_id"] == world.a.id
    assert [e.details["role"] for e in events(db, "member.removed")] == ["viewer"]


def test_new_member_can_read_the_project_at_once(api: TestClient, world: World) -> None:
    newcomer_headers = as_(api, NEWCOMER)
    assert api.get(f"/api/projects/{world.a.id}", headers=newcomer_headers).status_code == 404
    api.post(
        MEMBERS.format(world.a.id),
        json={"user_id": world.users[NEWCOMER], "role": "viewer"},
        headers=as_(api, PROJECT_ADMIN),
    )
    assert api.get(f"/api/projects/{world.a.id}", headers=newcomer_headers).status_code == 200
    # a viewer, not a member: submitting is still refused
    submit = api.post(
        "/api/test-runs/submit",
        params={"projectName": "Alpha"},
        content=PLAYWRIGHT_JSON.read_bytes(),
        headers={**newcomer_headers, "content-type": "application/json"},
    )
    assert submit.status_code == 403


def test_unknown_user_is_404_existing_member_409_bad_role_422(
    api: TestClient, world: World, db: Session
) -> None:
    headers = as_(api, OWNER)
    url = MEMBERS.format(world.a.id)
    assert (
        api.post(url, json={"user_id": 999999, "role": "member"}, headers=headers).status_code
        == 404
    )
    assert (
        api.post(url, json={"username": "nobody", "role": "member"}, headers=headers).status_code
        == 404
    )
    assert (
        api.post(
            url, json={"email": "no@example.com", "role": "member"}, headers=headers
        ).status_code
        == 404
    )
    existing = api.post(
        url, json={"user_id": world.users[VIEWER], "role": "member"}, headers=headers
    )
    assert existing.status_code == 409
    assert existing.json()["code"] == "member_exists"
    for body in (
        {"user_id": world.users[NEWCOMER], "role": "superuser"},
        {"user_id": world.users[NEWCOMER]},
        {"role": "member"},
        {"user_id": world.users[NEWCOMER], "username": NEWCOMER, "role": "member"},
        {"user_id": "USER_ID", "role": "member"},
    ):
        assert api.post(url, json=body, headers=headers).status_code == 422, body
    bad_patch = api.patch(f"{url}/{world.users[MEMBER]}", json={"role": "boss"}, headers=headers)
    assert bad_patch.status_code == 422
    assert api.patch(f"{url}/999999", json={"role": "viewer"}, headers=headers).status_code == 404
    assert api.delete(f"{url}/{world.users[NEWCOMER]}", headers=headers).status_code == 404
    assert role_in(db, world.a.id, world.users[NEWCOMER]) is None
    assert role_in(db, world.a.id, world.users[MEMBER]) == "member"
    assert events(db, "member.added") == []


def test_reporter_accounts_take_no_project_role(api: TestClient, world: World, db: Session) -> None:
    response = api.post(
        MEMBERS.format(world.a.id),
        json={"user_id": world.users[REPORTER], "role": "member"},
        headers=as_(api, ADMIN),
    )
    assert response.status_code == 422
    assert role_in(db, world.a.id, world.users[REPORTER]) is None


def test_project_admin_manages_members_up_to_admin_but_never_owners(
    api: TestClient, world: World, db: Session
) -> None:
    headers = as_(api, PROJECT_ADMIN)
    url = MEMBERS.format(world.a.id)
    promoted = api.patch(f"{url}/{world.users[MEMBER]}", json={"role": "admin"}, headers=headers)
    assert promoted.status_code == 200
    grant_owner = api.post(
        url, json={"user_id": world.users[NEWCOMER], "role": "owner"}, headers=headers
    )
    assert grant_owner.status_code == 403
    make_owner = api.patch(f"{url}/{world.users[VIEWER]}", json={"role": "owner"}, headers=headers)
    assert make_owner.status_code == 403
    demote_owner = api.patch(
        f"{url}/{world.users[OWNER]}", json={"role": "member"}, headers=headers
    )
    assert demote_owner.status_code == 403
    assert api.delete(f"{url}/{world.users[OWNER]}", headers=headers).status_code == 403
    assert role_in(db, world.a.id, world.users[OWNER]) == "owner"
    assert role_in(db, world.a.id, world.users[VIEWER]) == "viewer"
    assert role_in(db, world.a.id, world.users[NEWCOMER]) is None
    assert role_in(db, world.a.id, world.users[MEMBER]) == "admin"


def test_nobody_raises_their_own_role_but_may_step_down(
    api: TestClient, world: World, db: Session
) -> None:
    url = MEMBERS.format(world.a.id) + f"/{world.users[PROJECT_ADMIN]}"
    headers = as_(api, PROJECT_ADMIN)
    assert api.patch(url, json={"role": "owner"}, headers=headers).status_code == 403
    assert role_in(db, world.a.id, world.users[PROJECT_ADMIN]) == "admin"
    assert api.patch(url, json={"role": "member"}, headers=headers).status_code == 200
    assert role_in(db, world.a.id, world.users[PROJECT_ADMIN]) == "member"
    # and with it went the right to manage members
    again = api.patch(url, json={"role": "admin"}, headers=headers)
    assert again.status_code == 403
    assert role_in(db, world.a.id, world.users[PROJECT_ADMIN]) == "member"


def test_role_changes_are_audited_with_old_and_new_role(
    api: TestClient, world: World, db: Session
) -> None:
    url = MEMBERS.format(world.a.id) + f"/{world.users[VIEWER]}"
    response = api.patch(url, json={"role": "member"}, headers=as_(api, OWNER))
    assert response.status_code == 200 and response.json()["role"] == "member"
    (event,) = events(db, "member.role_changed")
    assert event.target_id == world.users[VIEWER]
    assert event.actor_id == world.users[OWNER]
    assert event.details == {
        "project_id": world.a.id,
        "project": "Alpha",
        "role": ["viewer", "member"],
    }
    # the same role again changes nothing and records nothing
    assert api.patch(url, json={"role": "member"}, headers=as_(api, OWNER)).status_code == 200
    assert len(events(db, "member.role_changed")) == 1


def test_the_last_owner_can_be_neither_demoted_nor_removed(
    api: TestClient, world: World, db: Session
) -> None:
    url = MEMBERS.format(world.a.id)
    for persona in (OWNER, ADMIN):  # the project's owner, and a global administrator
        headers = as_(api, persona)
        demote = api.patch(f"{url}/{world.users[OWNER]}", json={"role": "admin"}, headers=headers)
        assert demote.status_code == 409
        assert demote.json()["code"] == "last_owner"
        assert api.delete(f"{url}/{world.users[OWNER]}", headers=headers).status_code == 409
    assert role_in(db, world.a.id, world.users[OWNER]) == "owner"


def test_with_a_second_owner_the_first_may_leave(
    api: TestClient, world: World, db: Session
) -> None:
    url = MEMBERS.format(world.a.id)
    headers = as_(api, OWNER)
    second = api.patch(
        f"{url}/{world.users[PROJECT_ADMIN]}", json={"role": "owner"}, headers=headers
    )
    assert second.status_code == 200
    assert api.delete(f"{url}/{world.users[OWNER]}", headers=headers).status_code == 204
    assert role_in(db, world.a.id, world.users[OWNER]) is None
    # the one owner left is the last one now
    last = api.patch(
        f"{url}/{world.users[PROJECT_ADMIN]}",
        json={"role": "admin"},
        headers=as_(api, PROJECT_ADMIN),
    )
    assert last.status_code == 409


def test_member_of_another_project_cannot_manage_or_see_this_ones_members(
    api: TestClient, world: World, db: Session
) -> None:
    headers = as_(api, OWNER)
    url = MEMBERS.format(world.b.id)
    assert api.get(url, headers=headers).status_code == 404
    add = api.post(url, json={"user_id": world.users[OWNER], "role": "owner"}, headers=headers)
    assert add.status_code == 404
    assert role_in(db, world.b.id, world.users[OWNER]) is None


def test_deleting_a_user_or_project_removes_their_memberships(
    api: TestClient, world: World, db: Session
) -> None:
    admin = as_(api, ADMIN)
    assert api.delete(f"/api/admin/users/{world.users[VIEWER]}", headers=admin).status_code == 204
    assert api.delete(f"/api/projects/{world.a.id}", headers=admin).status_code == 204
    assert fresh(db).query(ProjectMember).count() == 0
    assert db.get(User, world.users[MEMBER]) is not None
