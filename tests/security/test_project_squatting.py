"""Project-name squatting: a plain user who creates a project CI has not submitted to yet must
not receive CI's results through a reporter's or an administrator's unrestricted key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playdeck.models import Project, Run, User
from playdeck.settings import Settings

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "violet tangerine hovercraft"
SUBMIT = Path(__file__).parents[1] / "data" / "phenx" / "submit.json"


def _run(project: str) -> dict[str, Any]:
    run: dict[str, Any] = orjson.loads(SUBMIT.read_bytes())
    run["projectName"] = project
    return run


@pytest.fixture
def client(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> TestClient:
    return make_client(make_settings(require_auth=True, secret_key=SECRET))


@pytest.fixture
def squatted(
    client: TestClient, make_account: Callable[..., User], make_api_key: Callable[..., str]
) -> str:
    """``payments-ci``, created by the plain user mallory; returns mallory's key."""
    mallory = make_account("mallory", role="user")
    key = make_api_key(mallory)
    response = client.post(
        "/api/projects", json={"name": "payments-ci"}, headers={"X-API-Key": key}
    )
    assert response.status_code == 201
    return key


def _submit(client: TestClient, key: str, project: str) -> Any:
    return client.post("/api/test-runs/submit", json=_run(project), headers={"X-API-Key": key})


@pytest.mark.parametrize("role", ["reporter", "admin"])
def test_an_unrestricted_key_does_not_deliver_into_a_users_project(
    client: TestClient,
    squatted: str,
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
    db: Session,
    role: str,
) -> None:
    ci_key = make_api_key(make_account("ci", role=role))
    refused = _submit(client, ci_key, "payments-ci")
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "project_owned_by_members"
    assert db.scalar(select(func.count()).select_from(Run)) == 0
    seen = client.get("/api/test-runs", headers={"X-API-Key": squatted})
    assert seen.status_code == 200
    assert seen.json()["items"] == []


def test_a_key_restricted_to_the_project_delivers(
    client: TestClient,
    squatted: str,
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
    db: Session,
) -> None:
    project_id = db.scalars(select(Project.id)).one()
    ci_key = make_api_key(make_account("ci"), project=project_id)
    assert _submit(client, ci_key, "payments-ci").status_code == 201


def test_a_reporter_still_creates_and_feeds_its_own_projects(
    client: TestClient, make_account: Callable[..., User], make_api_key: Callable[..., str]
) -> None:
    ci_key = make_api_key(make_account("ci"))
    assert _submit(client, ci_key, "checkout").status_code == 201  # auto-created, no owner
    assert _submit(client, ci_key, "checkout").status_code == 201


def test_the_owner_and_members_still_submit(client: TestClient, squatted: str) -> None:
    assert _submit(client, squatted, "payments-ci").status_code == 201
