"""The retention API: the policy (read, replace, validation), the preview, disk usage, pins."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.kit.clock import utcnow
from playdeck.models import AuditEvent, RetentionPolicy
from playdeck.settings import Settings

from .support import SHARED_SCREENSHOT, store_run

POLICY = "/api/projects/shop/retention"


def _two_runs(engine: Engine, settings: Settings) -> tuple[int, int]:
    now = utcnow()
    old = store_run(
        engine,
        settings.files_dir,
        project="Shop",
        branch="main",
        started_at=now - timedelta(days=20),
        tag="old",
    )
    new = store_run(
        engine, settings.files_dir, project="Shop", branch="main", started_at=now, tag="new"
    )
    return old, new


def test_read_and_replace_the_policy(
    client: TestClient, engine: Engine, settings: Settings, db: Session
) -> None:
    _two_runs(engine, settings)
    empty = client.get(POLICY).json()
    assert empty["keep_days"] is None and empty["branch_rules"] == []
    assert empty["updated_at"] is None
    body = {"keep_last": 10, "branch_rules": [{"branch": "release/*", "keep_days": 365}]}
    saved = client.put(POLICY, json=body)
    assert saved.status_code == 200
    assert saved.json()["branch_rules"] == [
        {"branch": "release/*", "keep_days": 365, "keep_last": None, "files_days": None}
    ]
    assert client.get(POLICY).json() == saved.json()
    # An empty policy removes the row: everything is kept again.
    assert client.put(POLICY, json={}).status_code == 200
    assert db.scalars(select(RetentionPolicy)).all() == []
    actions = db.scalars(select(AuditEvent.action)).all()
    assert actions == ["retention.policy_changed", "retention.policy_changed"]


def test_invalid_policies_are_problem_details_and_change_nothing(
    client: TestClient, engine: Engine, settings: Settings, db: Session
) -> None:
    _two_runs(engine, settings)
    for body in (
        {"keep_days": 0},
        {"keep_days": "a week"},
        {"keep_days": 7, "files_days": 30},
        {"keep_for": 7},
        {"branch_rules": [{"branch": "main"}, {"branch": "main"}]},
        {"branch_rules": [{"branch": " "}]},
        {"branch_rules": [{"branch": f"b{i}"} for i in range(21)]},
    ):
        response = client.put(POLICY, json=body)
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "invalid_input", response.json()
    assert db.scalars(select(RetentionPolicy)).all() == []
    assert db.scalars(select(AuditEvent)).all() == []


def test_preview_usage_and_pins(client: TestClient, engine: Engine, settings: Settings) -> None:
    old, new = _two_runs(engine, settings)
    assert client.put(POLICY, json={"keep_days": 30, "files_days": 7}).status_code == 200
    preview = client.get(POLICY + "/preview").json()
    assert (preview["deleted_runs"], preview["pruned_files_runs"]) == ([], [old])
    assert client.put(f"/api/test-runs/{old}/pin").json()["pinned"] is True
    assert client.get(POLICY + "/preview").json()["pruned_files_runs"] == []

    usage = client.get("/api/projects/shop/usage").json()
    own = len(b"trace old") + len(b"trace new")
    pages = len(b"<html>old</html>") + len(b"<html>new</html>")
    assert usage == {
        "project_id": usage["project_id"],
        "runs": 2,
        "pinned_runs": 1,
        "results": 2,
        "attachments": 4,
        "attachment_bytes": own + 2 * len(SHARED_SCREENSHOT),
        "report_files": 2,
        "report_bytes": pages,
        "stored_bytes": own + pages + len(SHARED_SCREENSHOT),  # the screenshot once
    }
    assert client.delete(f"/api/test-runs/{new}/pin").json()["pinned"] is False
    missing = client.put("/api/test-runs/999999/pin")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_deleting_a_run_or_a_project_through_the_api_is_audited(
    client: TestClient, engine: Engine, settings: Settings, db: Session
) -> None:
    old, _new = _two_runs(engine, settings)
    assert client.delete(f"/api/test-runs/{old}").status_code == 204
    assert client.delete("/api/projects/shop").status_code == 204
    events = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor_type) for e in events] == [
        ("run.deleted", "system"),  # authentication off: the built-in administrator
        ("project.deleted", "system"),
    ]
    assert events[0].details["run_id"] == old
    assert events[1].details["project"] == "Shop" and events[1].details["runs"] == 1
