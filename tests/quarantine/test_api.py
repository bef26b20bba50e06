"""Quarantining a test over the API: reason and expiry, audit, the list CI reads (by an
ingest-scoped key), a run's verdict, and the refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.models import AuditEvent, Project, Result, Test
from playdeck.settings import Settings
from tests.fixtures.accounts import create_account, create_api_key
from tests.fixtures.runs import MakeRun, case


def _run(make_run: MakeRun, **outcomes: str) -> int:
    return make_run([case(title, outcome) for title, outcome in outcomes.items()], project="web")


def _test_id(db: Session, title: str) -> int:
    return db.scalars(select(Test.id).where(Test.title == title)).one()


def test_a_quarantined_failure_does_not_fail_the_gate_and_the_list_names_it(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    run_id = _run(make_run, checkout="failed", login="failed", home="passed")
    checkout = _test_id(db, "checkout")
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()

    put = client.put(
        f"/api/tests/{checkout}/quarantine",
        json={"reason": "  flaky payment sandbox ", "expires_at": expires},
    )
    assert put.status_code == 200, put.text
    assert put.json()["reason"] == "flaky payment sandbox"

    listed = client.get("/api/quarantine", params={"projectName": "web"}).json()
    (entry,) = listed["tests"]
    assert entry["test_id"] == checkout and entry["title_path"] == ["checkout"]
    assert len(entry["key"]) == 64

    verdict = client.get(f"/api/test-runs/{run_id}/gate").json()
    assert verdict["passed"] is False
    assert [f["full_title"] for f in verdict["failures"]] == ["login"]
    assert [f["quarantine_reason"] for f in verdict["quarantined"]] == ["flaky payment sandbox"]

    client.put(f"/api/tests/{_test_id(db, 'login')}/quarantine", json={"reason": "known bug"})
    assert client.get(f"/api/test-runs/{run_id}/gate").json()["passed"] is True

    assert client.delete(f"/api/tests/{checkout}/quarantine").status_code == 204
    assert client.delete(f"/api/tests/{checkout}/quarantine").status_code == 204  # idempotent
    assert client.get(f"/api/test-runs/{run_id}/gate").json()["passed"] is False
    db.rollback()  # a fresh snapshot: what the requests committed
    actions = db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["test.quarantined", "test.quarantined", "test.unquarantined"]


def test_changing_a_quarantine_is_audited_with_before_and_after(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    _run(make_run, checkout="failed")
    checkout = _test_id(db, "checkout")
    client.put(f"/api/tests/{checkout}/quarantine", json={"reason": "one"})
    client.put(f"/api/tests/{checkout}/quarantine", json={"reason": "two"})
    db.rollback()
    last = db.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last is not None
    assert last.details["before"] == {"reason": "one", "expires_at": None}
    assert last.details["after"] == {"reason": "two", "expires_at": None}
    assert last.details["test"] == "checkout"


def test_a_lapsed_quarantine_counts_no_more(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    run_id = _run(make_run, checkout="failed")
    checkout = _test_id(db, "checkout")
    expires = datetime.now(UTC) + timedelta(days=1)
    client.put(
        f"/api/tests/{checkout}/quarantine",
        json={"reason": "sandbox", "expires_at": expires.isoformat()},
    )
    assert client.get(f"/api/test-runs/{run_id}/gate").json()["passed"] is True
    with time_machine.travel(expires + timedelta(seconds=1)):
        assert client.get(f"/api/test-runs/{run_id}/gate").json()["passed"] is False
        assert client.get("/api/quarantine", params={"projectName": "web"}).json()["tests"] == []


def test_refused_inputs_store_nothing(client: TestClient, make_run: MakeRun, db: Session) -> None:
    _run(make_run, checkout="failed")
    checkout = _test_id(db, "checkout")
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    for body in (
        {"reason": "   "},
        {"reason": ""},
        {"reason": "x" * 2001},
        {"reason": "ok", "expires_at": past},
        {"reason": "ok", "expires_at": "2999-01-01T00:00:00"},  # no time zone
        {},
    ):
        assert client.put(f"/api/tests/{checkout}/quarantine", json=body).status_code == 422
    assert client.put("/api/tests/987654/quarantine", json={"reason": "x"}).status_code == 404
    assert client.get("/api/quarantine", params={"projectName": "nope"}).status_code == 404
    assert client.get("/api/test-runs/987654/gate").status_code == 404
    assert client.get("/api/quarantine", params={"projectName": "web"}).json()["tests"] == []
    db.rollback()
    assert db.scalars(select(AuditEvent)).all() == []


def test_an_ingest_key_reads_the_list_and_the_verdict_but_quarantines_nothing(
    make_client: Callable[..., TestClient],
    auth_settings: Callable[..., Settings],
    engine: Engine,
    make_run: MakeRun,
    db: Session,
) -> None:
    run_id = _run(make_run, checkout="failed")
    checkout = _test_id(db, "checkout")
    project_id = db.scalars(select(Project.id).where(Project.name == "web")).one()
    owner = create_account(engine, auth_settings(), "olive", role="admin")
    key = create_api_key(engine, owner, scopes=["runs:write"], project=project_id)
    client = make_client(auth_settings())
    ci = {"Authorization": f"Bearer {key}"}

    listed = client.get("/api/quarantine", params={"projectName": "web"}, headers=ci)
    assert listed.status_code == 200, listed.text
    assert client.get(f"/api/test-runs/{run_id}/gate", headers=ci).status_code == 200
    refused = client.put(f"/api/tests/{checkout}/quarantine", json={"reason": "x"}, headers=ci)
    assert refused.status_code == 403
    db.rollback()
    assert db.scalars(select(Result.id)).all()  # the run is still there, untouched
    assert db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("test.%"))).all() == []
