"""The last-admin and last-owner guards hold under concurrent requests (PostgreSQL: the rows
checked are locked until commit). Whatever the interleaving, exactly one change wins."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from playdeck.models import Project, ProjectMember, User

from .support import PASSWORD, SECRET, add_user

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")


def _both_at_once(requests: list[Callable[[], httpx.Response]]) -> list[int]:
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = [0] * len(requests)

    def send(i: int) -> None:
        barrier.wait()
        statuses[i] = requests[i]().status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(statuses)


def _token(url: str, username: str) -> dict[str, str]:
    response = httpx.post(
        f"{url}/api/auth/login", json={"username": username, "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def postgres(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the row locks are PostgreSQL's")


def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    postgres: None, make_live_server: Callable[..., Any], engine: Engine
) -> None:
    with Session(engine) as session:
        ann, bob = add_user(session, "ann", "admin").id, add_user(session, "bob", "admin").id
        session.commit()
    server = make_live_server(require_auth=True, secret_key=SECRET)
    as_ann, as_bob = _token(server.url, "ann"), _token(server.url, "bob")
    statuses = _both_at_once(
        [
            lambda: httpx.patch(
                f"{server.url}/api/admin/users/{bob}", json={"role": "user"}, headers=as_ann
            ),
            lambda: httpx.patch(
                f"{server.url}/api/admin/users/{ann}", json={"role": "user"}, headers=as_bob
            ),
        ]
    )
    # The loser is refused either by the last-admin guard (409) or, when the winner committed
    # before the loser's credential was read, because the loser is no longer an admin (403).
    assert sorted(statuses) in ([200, 403], [200, 409])
    with Session(engine) as session:
        admins = select(func.count()).select_from(User).where(User.role == "admin")
        assert session.scalar(admins) == 1


def test_two_owners_leaving_at_once_leave_one_owner(
    postgres: None, make_live_server: Callable[..., Any], engine: Engine
) -> None:
    with Session(engine) as session:
        ann, bob = add_user(session, "ann").id, add_user(session, "bob").id
        project = Project(name="Shared", slug="shared")
        session.add(project)
        session.flush()
        for user_id in (ann, bob):
            session.add(ProjectMember(project_id=project.id, user_id=user_id, role="owner"))
        session.commit()
        project_id = project.id
    server = make_live_server(require_auth=True, secret_key=SECRET)
    url = f"{server.url}/api/projects/{project_id}/members"
    as_ann, as_bob = _token(server.url, "ann"), _token(server.url, "bob")
    statuses = _both_at_once(
        [
            lambda: httpx.delete(f"{url}/{ann}", headers=as_ann),
            lambda: httpx.delete(f"{url}/{bob}", headers=as_bob),
        ]
    )
    assert statuses == [204, 409]
    with Session(engine) as session:
        owners = (
            select(func.count()).select_from(ProjectMember).where(ProjectMember.role == "owner")
        )
        assert session.scalar(owners) == 1
