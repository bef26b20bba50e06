"""The administrators' users list tells service accounts from people: each row says which it is,
and ``kind`` lists one or the other, alone or with the other filters and across pages."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from .support import ADMIN, OUTSIDER, OWNER, REPORTER, VIEWER, World, as_

USERS = "/api/admin/users"


def _service_accounts(api: TestClient, world: World, admin: dict[str, str]) -> tuple[str, str]:
    """A service account of project alpha (role member) and a global one (role reporter):
    their usernames."""
    made = []
    for url, role in (
        (f"/api/projects/{world.a.id}/service-accounts", "member"),
        ("/api/admin/service-accounts", "reporter"),
    ):
        created = api.post(url, json={"name": "ci", "role": role}, headers=admin)
        assert created.status_code == 201, created.text
        made.append(str(created.json()["username"]))
    return made[0], made[1]


def _names(api: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    response = api.get(USERS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [u["username"] for u in response.json()["items"]]


def test_each_listed_user_says_whether_it_is_a_service_account(
    api: TestClient, world: World
) -> None:
    admin = as_(api, ADMIN)
    project_account, global_account = _service_accounts(api, world, admin)
    items = api.get(USERS, headers=admin).json()["items"]
    marked = {u["username"]: u["service_account"] for u in items}
    assert marked == {
        **{name: False for name in world.users},
        project_account: True,
        global_account: True,
    }
    # the other answers that carry a user say it too
    one = api.get(f"{USERS}/{world.users[OWNER]}", headers=admin).json()
    assert one["service_account"] is False
    legacy = {
        u["username"]: u["service_account"] for u in api.get("/api/users", headers=admin).json()
    }
    assert legacy[project_account] is True and legacy[OWNER] is False


def test_kind_lists_people_only_or_service_accounts_only_and_nothing_else(
    api: TestClient, world: World
) -> None:
    admin = as_(api, ADMIN)
    project_account, global_account = _service_accounts(api, world, admin)
    assert _names(api, admin) == [*world.users, project_account, global_account]
    assert _names(api, admin, kind="person") == list(world.users)
    assert _names(api, admin, kind="service") == [project_account, global_account]
    unknown = api.get(USERS, params={"kind": "robot"}, headers=admin)
    assert unknown.status_code == 422
    assert unknown.headers["content-type"].startswith("application/problem+json")
    assert api.get(USERS, params={"kind": ""}, headers=admin).status_code == 422


def test_kind_combines_with_role_text_activity_and_paging(api: TestClient, world: World) -> None:
    admin = as_(api, ADMIN)
    project_account, global_account = _service_accounts(api, world, admin)
    # the global account's global role is reporter, like the reporter persona's
    assert _names(api, admin, role="reporter") == [REPORTER, global_account]
    assert _names(api, admin, role="reporter", kind="service") == [global_account]
    assert _names(api, admin, role="reporter", kind="person") == [REPORTER]
    assert _names(api, admin, q="ci", kind="service") == [project_account, global_account]
    assert _names(api, admin, q="ci", kind="person") == []
    account_id = next(
        u["id"] for u in api.get(USERS, headers=admin).json()["items"] if u["service_account"]
    )
    api.patch(f"{USERS}/{account_id}", json={"is_active": False}, headers=admin)
    api.patch(f"{USERS}/{world.users[VIEWER]}", json={"is_active": False}, headers=admin)
    assert _names(api, admin, active="false", kind="service") == [project_account]
    assert _names(api, admin, active="false", kind="person") == [VIEWER]
    assert _names(api, admin, active="true", kind="service") == [global_account]

    for kind, expected in (
        ("person", list(world.users)),
        ("service", [project_account, global_account]),
    ):
        pages, cursor = [], None
        while True:
            params: dict[str, Any] = {"kind": kind, "limit": 1 if kind == "service" else 3}
            if cursor:
                params["cursor"] = cursor
            page = api.get(USERS, params=params, headers=admin).json()
            pages.append([u["username"] for u in page["items"]])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert [name for page in pages for name in page] == expected
        assert len(pages) > 1


def test_the_kind_filter_opens_the_list_to_no_one_else(api: TestClient, world: World) -> None:
    for kind in ("person", "service", "robot"):
        assert api.get(USERS, params={"kind": kind}).status_code == 401
        for persona in (REPORTER, OUTSIDER, VIEWER, OWNER):
            refused = api.get(USERS, params={"kind": kind}, headers=as_(api, persona))
            assert refused.status_code == 403, (persona, kind)
            assert "items" not in refused.text
