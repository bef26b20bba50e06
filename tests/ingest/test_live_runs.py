"""Live runs over the API: a client opens its part, sends batches of finished tests (each
stored once, however often retried), and closes it; a silent part is closed as interrupted."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from playdeck.ingest.live.sweeper import sweep_runs
from playdeck.kit.clock import utcnow
from playdeck.models import Result, Run, RunPart
from tests.ingest.live_support import FAIL, PASS, junit, upload_with_reports

HEARTBEAT = 120
PHENX_JSON = Path(__file__).parents[1] / "data" / "phenx" / "submit.json"


def _open(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/test-runs/live", json={"projectName": "shop", **body})
    assert response.status_code == 201, response.text
    opened: dict[str, Any] = response.json()
    return opened


def _parts(opened: dict[str, Any]) -> str:
    return f"/api/test-runs/{opened['testRunId']}/parts/{opened['partId']}"


def _batch(
    client: TestClient, opened: dict[str, Any], tests: dict[str, str], key: str | None = None
) -> Any:
    return client.post(
        f"{_parts(opened)}/results",
        files={"file": ("batch.xml", junit(tests), "application/xml")},
        headers={"Idempotency-Key": key} if key else {},
    )


def _run(client: TestClient, opened: dict[str, Any]) -> dict[str, Any]:
    run: dict[str, Any] = client.get(f"/api/test-runs/{opened['testRunId']}").json()
    return run


def _sweep(engine: Engine, seconds_from_now: float) -> None:
    sweep_runs(
        engine,
        heartbeat_seconds=HEARTBEAT,
        shard_wait_seconds=3600,
        now=utcnow() + timedelta(seconds=seconds_from_now),
    )


def test_a_live_run_is_running_until_closed_and_counts_every_batch(client: TestClient) -> None:
    opened = _open(client, branch="main", runName="nightly", tags=["smoke"])
    assert (opened["state"], opened["runStatus"], opened["shard"]) == ("open", "running", None)
    assert opened["url"].endswith(f"/runs/{opened['testRunId']}")

    assert _batch(client, opened, {"a": PASS, "b": PASS}).status_code == 201
    run = _run(client, opened)
    assert (run["status"], run["counts"]["total"], run["branch"]) == ("running", 2, "main")
    assert (run["name"], run["tags"]) == ("nightly", ["smoke"])
    assert _batch(client, opened, {"c": FAIL}).status_code == 201
    assert _run(client, opened)["counts"]["failed"] == 1

    closed = client.post(f"{_parts(opened)}/close", json={})
    assert closed.status_code == 200, closed.text
    assert (closed.json()["state"], closed.json()["runStatus"]) == ("closed", "failed")
    run = _run(client, opened)
    assert (run["status"], run["counts"]["total"]) == ("failed", 3)
    assert run["parts"][0]["tests"] == 3

    again = client.post(f"{_parts(opened)}/close")
    assert (again.status_code, again.json()["state"]) == (200, "closed")
    late = _batch(client, opened, {"d": PASS})
    assert (late.status_code, late.json()["code"]) == (409, "part_closed")


def test_a_retried_batch_is_stored_once(client: TestClient, db: Session) -> None:
    opened = _open(client)
    first = _batch(client, opened, {"a": PASS, "b": FAIL}, key="batch-1")
    again = _batch(client, opened, {"a": PASS, "b": FAIL}, key="batch-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    assert db.scalar(select(func.count()).select_from(Result)) == 2
    assert _run(client, opened)["parts"][0]["tests"] == 2
    other = _batch(client, opened, {"c": PASS}, key="batch-1")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")


def test_a_batch_may_be_the_json_the_submit_endpoint_takes(client: TestClient) -> None:
    opened = _open(client)
    response = client.post(
        f"{_parts(opened)}/results",
        content=PHENX_JSON.read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    run = _run(client, opened)
    assert run["counts"]["total"] > 0
    assert (run["status"], run["project"]["name"]) == ("running", "shop")


def test_a_silent_part_is_closed_as_interrupted_with_its_results_kept(
    client: TestClient, engine: Engine
) -> None:
    opened = _open(client)
    _batch(client, opened, {"a": PASS, "b": PASS})

    _sweep(engine, HEARTBEAT - 30)
    assert _run(client, opened)["status"] == "running"
    assert client.post(f"{_parts(opened)}/heartbeat").status_code == 204
    _sweep(engine, HEARTBEAT + 30)

    run = _run(client, opened)
    assert (run["status"], run["counts"]["total"], run["counts"]["passed"]) == (
        "interrupted",
        2,
        2,
    )
    assert run["parts"][0]["state"] == "interrupted"
    assert run["parts"][0]["closed_at"] is not None
    late = client.post(f"{_parts(opened)}/heartbeat")
    assert (late.status_code, late.json()["code"]) == (409, "part_closed")


def test_a_client_closing_as_interrupted_interrupts_the_run(client: TestClient) -> None:
    opened = _open(client)
    _batch(client, opened, {"a": PASS})
    closed = client.post(f"{_parts(opened)}/close", json={"status": "interrupted"})
    assert closed.json()["runStatus"] == "interrupted"
    refused = client.post(f"{_parts(_open(client))}/close", json={"status": "passed"})
    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_status")


def test_live_shards_of_one_key_are_one_run_done_when_every_part_is(
    client: TestClient, db: Session
) -> None:
    one = _open(client, runKey="gh-1", shard="1/2")
    two = _open(client, runKey="gh-1", shard="2/2")
    assert one["testRunId"] == two["testRunId"]
    assert (one["shard"], two["shard"]) == ("1/2", "2/2")
    _batch(client, one, {"a": PASS})
    _batch(client, two, {"b": PASS})
    client.post(f"{_parts(one)}/close")
    assert _run(client, one)["status"] == "running"  # shard 2 is still open
    client.post(f"{_parts(two)}/close")
    run = _run(client, one)
    assert (run["status"], run["counts"]["total"]) == ("passed", 2)
    assert db.scalar(select(func.count()).select_from(Run)) == 1


def test_a_part_of_another_run_is_not_found(client: TestClient) -> None:
    one, two = _open(client), _open(client)
    path = f"/api/test-runs/{one['testRunId']}/parts/{two['partId']}/results"
    response = client.post(path, files={"file": ("b.xml", junit({"a": PASS}))})
    assert (response.status_code, response.json()["code"]) == (404, "part_not_found")
    assert client.post(f"/api/test-runs/{one['testRunId']}/parts/999/close").status_code == 404


def test_opening_refuses_a_bad_shard_and_unknown_fields(client: TestClient, db: Session) -> None:
    bad = client.post("/api/test-runs/live", json={"projectName": "p", "shard": "3/2"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_shard")
    alone = client.post("/api/test-runs/live", json={"projectName": "p", "shard": "1/2"})
    assert (alone.status_code, alone.json()["code"]) == (422, "run_key_required")
    unknown = client.post("/api/test-runs/live", json={"projectName": "p", "colour": "red"})
    assert unknown.status_code == 422
    assert db.scalar(select(func.count()).select_from(Run)) == 0


def test_a_batch_is_read_as_a_report_while_the_opening_refuses_duplicate_keys(
    client: TestClient,
) -> None:
    duplicated = client.post(
        "/api/test-runs/live",
        content=b'{"projectName": "shop", "projectName": "other"}',
        headers={"Content-Type": "application/json"},
    )
    assert (duplicated.status_code, duplicated.json()["code"]) == (422, "duplicate_json_key")
    opened = _open(client)
    body = PHENX_JSON.read_bytes().replace(b"{", b'{"branch": "a", "branch": "b", ', 1)
    response = client.post(
        f"{_parts(opened)}/results", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text  # as /submit takes it: the last wins


def test_a_retried_opening_answers_the_part_it_opened(client: TestClient, db: Session) -> None:
    body = {"projectName": "shop", "runKey": "gh-2", "shard": "1/2"}
    key = {"Idempotency-Key": "open-1"}
    first = client.post("/api/test-runs/live", json=body, headers=key)
    again = client.post("/api/test-runs/live", json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert db.scalar(select(func.count()).select_from(RunPart)) == 1
    other = client.post("/api/test-runs/live", json={**body, "shard": "2/2"}, headers=key)
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_key_reused")


def test_each_batch_of_a_live_part_keeps_its_report_under_a_name_of_its_own(
    client: TestClient,
) -> None:
    opened = _open(client, runKey="build-3")
    for n in (1, 2, 3):
        response = upload_with_reports(
            client, {f"t{n}": PASS}, [("html", b"<p>%d</p>" % n)], path=f"{_parts(opened)}/results"
        )
        assert response.status_code == 201, response.text
    assert [r["label"] for r in _run(client, opened)["reports"]] == [
        None,
        "html report (part 1)",
        "html report (part 1, report 3)",
    ]
