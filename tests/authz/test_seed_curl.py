"""The JWT login API's user-administration and member ``curl`` commands (its guide's steps 4 and
5) run as written, host, port and placeholders aside, against a real server: an admin lists and
updates users and adds a member; a non-admin is refused."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.fixtures.accounts import create_account, insert_project

from .support import PASSWORD, SECRET, role_in

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")

JWT_API_LIST_USERS = """curl http://localhost:8001/admin/users \\
-H "Authorization: Bearer ADMIN_TOKEN"
"""

JWT_API_UPDATE_USER = """curl -X PUT http://localhost:8001/admin/users/USER_ID \\
-H "Authorization: Bearer ADMIN_TOKEN" \\
-H "Content-Type: application/json" \\
-d '{
"is_active": true,
"is_superuser": false
}'"""

JWT_API_ADD_MEMBER = """curl -X POST http://localhost:8001/projects/PROJECT_ID/members \\
-H "Authorization: Bearer ADMIN_TOKEN" \\
-H "Content-Type: application/json" \\
-d '{
"user_id": "USER_ID",
"role": "member"
}'"""


def _curl(command: str, base_url: str, **placeholders: object) -> tuple[int, Any]:
    """Run the command through bash as a reader would paste it; returns (status, JSON body)."""
    command = command.strip().replace("http://localhost:8001", base_url)
    for name, value in placeholders.items():
        command = command.replace(name, str(value))
    flags = ["--silent", "--show-error", "--write-out", "\n%{http_code}"]
    done = subprocess.run(
        ["bash", "-c", f"{command} {shlex.join(flags)}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(body) if body else None


def _accounts(engine: Engine, settings: Any) -> tuple[int, int, int]:
    """An administrator, a user, and a project; returns their ids."""
    admin, alice = (
        create_account(engine, settings, name, password=PASSWORD, role=role)
        for name, role in (("admin", "admin"), ("alice", "user"))
    )
    return admin.id, alice.id, insert_project(engine, "Storefront").id


def test_jwt_login_api_user_administration_and_member_curls(
    make_live_server: Callable[..., Any], engine: Engine
) -> None:
    server = make_live_server(require_auth=True, secret_key=SECRET)
    admin_id, alice_id, project_id = _accounts(engine, server.settings)
    login = httpx.post(
        f"{server.url}/api/auth/login", json={"username": "admin", "password": PASSWORD}
    )
    token = login.json()["access_token"]

    status, users = _curl(JWT_API_LIST_USERS, server.url, ADMIN_TOKEN=token)
    assert status == 200
    assert [(u["username"], u["is_superuser"]) for u in users] == [
        ("admin", True),
        ("alice", False),
    ]

    status, alice = _curl(JWT_API_UPDATE_USER, server.url, ADMIN_TOKEN=token, USER_ID=alice_id)
    assert status == 200, alice
    assert (alice["is_active"], alice["is_superuser"], alice["role"]) == (True, False, "user")

    status, member = _curl(
        JWT_API_ADD_MEMBER, server.url, ADMIN_TOKEN=token, PROJECT_ID=project_id, USER_ID=alice_id
    )
    assert status == 201, member
    assert (member["user_id"], member["role"]) == (alice_id, "member")
    with Session(engine) as session:
        assert role_in(session, project_id, alice_id) == "member"
    status, again = _curl(
        JWT_API_ADD_MEMBER, server.url, ADMIN_TOKEN=token, PROJECT_ID=project_id, USER_ID=alice_id
    )
    assert status == 409 and again["code"] == "member_exists"

    # the administrator demoting themselves with the same command: the last admin stays
    status, refused = _curl(JWT_API_UPDATE_USER, server.url, ADMIN_TOKEN=token, USER_ID=admin_id)
    assert status == 409 and refused["code"] == "last_admin"

    # alice, now a member of the project, reads it; the user list stays closed to her
    alice_token = httpx.post(
        f"{server.url}/api/auth/login", json={"username": "alice", "password": PASSWORD}
    ).json()["access_token"]
    status, _ = _curl(JWT_API_LIST_USERS, server.url, ADMIN_TOKEN=alice_token)
    assert status == 403
    project = httpx.get(
        f"{server.url}/api/projects/{project_id}",
        headers={"Authorization": f"Bearer {alice_token}"},
    )
    assert project.status_code == 200
