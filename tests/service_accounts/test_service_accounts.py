"""Service accounts: a project's CI identity with its own keys, which outlives the people who
made it; global ones for administrators; shown as such in the audit log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import AuditEvent, Run, ServiceAccount, User
from tests.auth.support import bearer, login

REPORT = (Path(__file__).parents[1] / "data" / "playwright" / "report.json").read_bytes()
ACCOUNTS = "/api/projects/web/service-accounts"


def _submit(client: TestClient, key: str, project: str = "Web") -> int:
    response = client.post(
        "/api/test-runs/submit",
        content=REPORT,
        params={"projectName": project},
        headers={**bearer(key), "content-type": "application/json"},
    )
    return int(response.status_code)


def _project_with_owner(client: TestClient, make_user: Callable[..., User]) -> dict[str, str]:
    """Olga signs in and creates the project Web (she owns it); her headers."""
    make_user("olga")
    olga = bearer(login(client, "olga").access)
    client.cookies.clear()
    assert client.post("/api/projects", json={"name": "Web"}, headers=olga).status_code == 201
    return olga


def _account_key(client: TestClient, headers: dict[str, str], role: str = "member") -> str:
    url = ACCOUNTS
    created = client.post(url, json={"name": "github-ci", "role": role}, headers=headers)
    assert created.status_code == 201, created.text
    account = created.json()
    key = client.post(f"{url}/{account['id']}/keys", json={"name": "nightly"}, headers=headers)
    assert key.status_code == 201, key.text
    assert key.headers["cache-control"].startswith("no-store")
    return str(key.json()["key"])


def test_a_projects_service_account_outlives_the_owner_who_made_it(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    olga = _project_with_owner(auth_client, make_user)
    key = _account_key(auth_client, olga)
    listed = auth_client.get(ACCOUNTS, headers=olga).json()
    assert [(a["username"], a["role"]) for a in listed] == [("sa-web-github-ci", "member")]

    make_user("root", role="admin")
    make_user("pia")
    admin = bearer(login(auth_client, "root").access)
    auth_client.cookies.clear()
    pia_id = db.scalars(select(User.id).where(User.username == "pia")).one()
    olga_id = db.scalars(select(User.id).where(User.username == "olga")).one()
    added = auth_client.post(
        "/api/projects/web/members", json={"user_id": pia_id, "role": "owner"}, headers=olga
    )
    assert added.status_code == 201
    assert auth_client.delete(f"/api/admin/users/{olga_id}", headers=admin).status_code == 204

    assert _submit(auth_client, key) == 201
    db.rollback()
    assert db.scalar(select(Run.id)) is not None
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "service_account.created")
    ).one()
    assert (event.actor_name, event.target_name) == ("olga", "sa-web-github-ci")


def test_its_keys_reach_its_project_only_and_act_as_a_service_account(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    olga = _project_with_owner(auth_client, make_user)
    assert auth_client.post("/api/projects", json={"name": "Shop"}, headers=olga).status_code == 201
    key = _account_key(auth_client, olga)
    assert auth_client.get("/api/projects/web", headers=bearer(key)).status_code == 200
    assert auth_client.get("/api/projects/shop", headers=bearer(key)).status_code == 404

    run = auth_client.post(
        "/api/test-runs/submit",
        content=REPORT,
        params={"projectName": "Web"},
        headers={**bearer(key), "content-type": "application/json"},
    )
    assert run.status_code == 201
    run_id = run.json()["testRunId"]
    deleted = auth_client.delete(f"/api/test-runs/{run_id}", headers=bearer(key))
    assert deleted.status_code == 403  # a member does not delete runs

    admin_key = _second_key_as_admin(auth_client, olga)
    assert (
        auth_client.put(f"/api/test-runs/{run_id}/pin", headers=bearer(admin_key)).status_code
        == 200
    )
    db.rollback()
    pinned = db.scalars(select(AuditEvent).where(AuditEvent.action == "run.pinned")).one()
    assert (pinned.actor_type, pinned.actor_name) == ("service_account", "sa-web-release")


def _second_key_as_admin(client: TestClient, olga: dict[str, str]) -> str:
    created = client.post(ACCOUNTS, json={"name": "release", "role": "admin"}, headers=olga)
    assert created.status_code == 201, created.text
    key = client.post(f"{ACCOUNTS}/{created.json()['id']}/keys", json={"name": "k"}, headers=olga)
    return str(key.json()["key"])


def test_a_service_account_neither_signs_in_nor_joins_another_project(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    olga = _project_with_owner(auth_client, make_user)
    _account_key(auth_client, olga)
    assert auth_client.post("/api/projects", json={"name": "Shop"}, headers=olga).status_code == 201
    sign_in = auth_client.post(
        "/api/auth/login", json={"username": "sa-web-github-ci", "password": "anything at all"}
    )
    assert sign_in.status_code == 401
    user_id = db.scalars(select(User.id).where(User.username == "sa-web-github-ci")).one()
    joined = auth_client.post(
        "/api/projects/shop/members", json={"user_id": user_id, "role": "viewer"}, headers=olga
    )
    assert (joined.status_code, joined.json()["code"]) == (422, "service_account_not_member")


def test_refusals_name_the_rule(auth_client: TestClient, make_user: Callable[..., User]) -> None:
    olga = _project_with_owner(auth_client, make_user)
    owner_role = auth_client.post(ACCOUNTS, json={"name": "ci", "role": "owner"}, headers=olga)
    assert owner_role.status_code == 422
    bad_name = auth_client.post(ACCOUNTS, json={"name": "CI Bot!"}, headers=olga)
    assert bad_name.status_code == 422
    assert auth_client.post(ACCOUNTS, json={"name": "ci"}, headers=olga).status_code == 201
    taken = auth_client.post(ACCOUNTS, json={"name": "ci"}, headers=olga)
    assert (taken.status_code, taken.json()["code"]) == (409, "service_account_exists")
    assert auth_client.delete(f"{ACCOUNTS}/999", headers=olga).status_code == 404


def test_keys_are_made_after_a_password_sign_in_only(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    olga = _project_with_owner(auth_client, make_user)
    account = auth_client.post(ACCOUNTS, json={"name": "ci"}, headers=olga).json()
    by_key = auth_client.post(
        f"{ACCOUNTS}/{account['id']}/keys",
        json={"name": "k"},
        headers=bearer(_olgas_key(auth_client, olga)),
    )
    assert (by_key.status_code, by_key.json()["code"]) == (403, "password_login_required")


def _olgas_key(client: TestClient, olga: dict[str, str]) -> str:
    me = client.get("/api/auth/me", headers=olga).json()["user"]
    created = client.post(f"/api/users/{me['id']}/api-keys", json={"name": "own"}, headers=olga)
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def test_deleting_the_project_deletes_its_service_accounts(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    olga = _project_with_owner(auth_client, make_user)
    key = _account_key(auth_client, olga)
    assert auth_client.delete("/api/projects/web", headers=olga).status_code == 204
    db.rollback()
    assert db.scalars(select(User).where(User.is_service)).all() == []
    assert db.scalars(select(ServiceAccount)).all() == []
    assert auth_client.get("/api/auth/me", headers=bearer(key)).status_code == 401


def test_a_global_service_account_is_an_administrators(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("root", role="admin")
    make_user("bob")
    admin = bearer(login(auth_client, "root").access)
    bob = bearer(login(auth_client, "bob").access)
    auth_client.cookies.clear()
    url = "/api/admin/service-accounts"
    assert auth_client.post(url, json={"name": "ci"}, headers=bob).status_code == 403
    created = auth_client.post(url, json={"name": "ci", "role": "reporter"}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["project_id"] is None
    key = auth_client.post(
        f"{url}/{created.json()['id']}/keys", json={"name": "k"}, headers=admin
    ).json()["key"]
    assert _submit(auth_client, key, project="Fresh") == 201  # a reporter submits anywhere
    assert (
        auth_client.post(url, json={"name": "x", "role": "user"}, headers=admin).status_code == 422
    )


def test_no_one_can_give_a_service_account_a_password(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    olga = _project_with_owner(auth_client, make_user)
    _account_key(auth_client, olga)
    make_user("root", role="admin")
    admin = bearer(login(auth_client, "root").access)
    auth_client.cookies.clear()
    user_id = db.scalars(select(User.id).where(User.username == "sa-web-github-ci")).one()
    typed = auth_client.patch(
        f"/api/admin/users/{user_id}",
        json={"password": "a long enough new passphrase"},
        headers=admin,
    )
    link = auth_client.post(f"/api/admin/users/{user_id}/password-reset-link", headers=admin)
    assert (typed.status_code, typed.json()["code"]) == (409, "service_account")
    assert (link.status_code, link.json()["code"]) == (409, "service_account")


def test_an_administrator_service_account_never_stands_in_for_the_last_administrator(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    """Nobody can sign in as a service account, so it cannot administer the users: the last
    person who is an administrator stays one, and the account itself can always be deleted."""
    root = make_user("root", role="admin")
    admin = bearer(login(auth_client, "root").access)
    auth_client.cookies.clear()
    url = "/api/admin/service-accounts"
    created = auth_client.post(url, json={"name": "ops", "role": "admin"}, headers=admin)
    assert created.status_code == 201, created.text
    demoted = auth_client.patch(f"/api/admin/users/{root.id}", json={"role": "user"}, headers=admin)
    assert (demoted.status_code, demoted.json()["code"]) == (409, "last_admin")
    deleted = auth_client.delete(f"{url}/{created.json()['id']}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    db.rollback()
    assert db.scalars(select(User.role).where(User.id == root.id)).one() == "admin"
