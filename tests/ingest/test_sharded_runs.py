"""Uploads naming one CI build (``runKey``, ``shard``) merge into one run, in any order; its
counts and status are over the merged tests; a run missing shards is never a pass."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from playdeck.ingest.bounds import MAX_REPORT_LABEL_CHARS
from playdeck.ingest.live.sweeper import sweep_runs
from playdeck.kit.clock import utcnow
from playdeck.models import Report, Result, Run, RunPart
from tests.fixtures.runs import results_off_their_run
from tests.ingest.live_support import FAIL, PASS, SKIP, run_of, upload, upload_with_reports

WAIT = 600


def _sweep(engine: Engine, seconds_from_now: float) -> None:
    sweep_runs(
        engine,
        heartbeat_seconds=WAIT,
        shard_wait_seconds=WAIT,
        now=utcnow() + timedelta(seconds=seconds_from_now),
    )


def test_shards_arriving_out_of_order_make_one_run_that_waits_for_the_last(
    client: TestClient, db: Session
) -> None:
    second = upload(client, {"b1": PASS, "b2": FAIL}, runKey="build-7", shard="2/3")
    run = run_of(client, second)
    assert run["status"] == "running"
    assert run["shards"] == {"total": 3, "arrived": [2], "missing": [1, 3]}

    first = upload(client, {"a1": PASS, "a2": SKIP}, runKey="build-7", shard="1/3")
    assert first.json()["testRunId"] == second.json()["testRunId"]
    assert run_of(client, first)["status"] == "running"

    third = upload(client, {"c1": PASS}, runKey="build-7", shard="3/3")
    run = run_of(client, third)
    assert run["status"] == "failed"
    assert run["run_key"] == "build-7"
    assert run["shards"] == {"total": 3, "arrived": [1, 2, 3], "missing": []}
    assert [p["shard"] for p in run["parts"]] == ["2/3", "1/3", "3/3"]
    assert [p["tests"] for p in run["parts"]] == [2, 2, 1]
    assert {p["state"] for p in run["parts"]} == {"closed"}
    counts = run["counts"]
    assert (counts["total"], counts["passed"], counts["failed"], counts["skipped"]) == (5, 3, 1, 1)
    assert db.scalar(select(func.count()).select_from(Run)) == 1
    tests = client.get(f"/api/test-runs/{run['id']}/tests").json()["items"]
    assert sorted(t["test"]["title"] for t in tests) == ["a1", "a2", "b1", "b2", "c1"]


def test_all_shards_green_is_a_pass(client: TestClient) -> None:
    upload(client, {"a": PASS}, runKey="k", shard="1/2")
    run = run_of(client, upload(client, {"b": PASS}, runKey="k", shard="2/2"))
    assert (run["status"], run["counts"]["total"], run["pass_rate"]) == ("passed", 2, 1.0)


def test_a_test_failing_in_one_job_and_passing_on_its_rerun_is_flaky(client: TestClient) -> None:
    upload(client, {"checkout": FAIL, "cart": PASS}, runKey="gh-99")
    run = run_of(client, upload(client, {"checkout": PASS}, runKey="gh-99"))
    counts = run["counts"]
    assert (counts["total"], counts["flaky"], counts["passed"], counts["failed"]) == (2, 1, 1, 0)
    assert run["status"] == "passed"
    assert run["shards"] is None
    assert [p["shard"] for p in run["parts"]] == [None, None]


def test_a_later_shard_naming_the_branch_gives_it_to_the_results_stored_before(
    client: TestClient, db: Session
) -> None:
    # Flakiness counts a test's results on a branch by the branch each result carries.
    upload(client, {"a": PASS}, runKey="k", shard="1/3")
    assert db.scalars(select(Result.run_branch)).all() == [None]
    db.rollback()  # a new snapshot: the uploads below commit after this one began

    upload(client, {"b": FAIL}, runKey="k", shard="2/3", branch="main")
    run = run_of(client, upload(client, {"c": PASS}, runKey="k", shard="3/3", branch="other"))
    assert run["branch"] == "main"  # the first part that names a branch gives it
    assert db.scalars(select(Result.run_branch)).all() == ["main"] * 3
    assert results_off_their_run(db) == []


def test_the_same_key_in_another_project_is_another_run(client: TestClient) -> None:
    one = upload(client, {"a": PASS}, runKey="k", project="one")
    two = upload(client, {"a": PASS}, runKey="k", project="two")
    assert one.json()["testRunId"] != two.json()["testRunId"]


def test_run_key_and_shard_as_query_parameters(client: TestClient) -> None:
    response = client.post(
        "/api/test-runs/upload",
        params={"runKey": "q-1", "shard": "1/1"},
        data={"projectName": "shop"},
        files={"file": ("junit.xml", b'<testsuite name="s"><testcase name="t"/></testsuite>')},
    )
    run = run_of(client, response)
    assert (run["run_key"], run["status"], run["shards"]["arrived"]) == ("q-1", "passed", [1])


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"runKey": "k", "shard": "0/3"}, 422, "invalid_shard"),
        ({"runKey": "k", "shard": "4/3"}, 422, "invalid_shard"),
        ({"runKey": "k", "shard": "two"}, 422, "invalid_shard"),
        ({"shard": "1/3"}, 422, "run_key_required"),
        ({"runKey": "tab\there"}, 422, "invalid_run_key"),
        ({"runKey": "x" * 201}, 422, "invalid_run_key"),
    ],
)
def test_bad_run_keys_and_shards_are_refused_and_store_nothing(
    client: TestClient, db: Session, fields: dict[str, str], status: int, code: str
) -> None:
    response = upload(client, {"a": PASS}, **fields)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert db.scalar(select(func.count()).select_from(Run)) == 0


def test_a_shard_of_another_total_is_a_conflict_and_changes_nothing(
    client: TestClient, db: Session
) -> None:
    upload(client, {"a": PASS}, runKey="k", shard="1/2")
    refused = upload(client, {"b": PASS}, runKey="k", shard="2/3")
    assert (refused.status_code, refused.json()["code"]) == (409, "shard_total_mismatch")
    assert db.scalar(select(func.count()).select_from(Result)) == 1
    assert db.scalar(select(func.count()).select_from(RunPart)) == 1


def test_a_retried_shard_upload_with_its_idempotency_key_is_stored_once(
    client: TestClient, db: Session
) -> None:
    key = "shard-1-of-build-5"
    first = upload(client, {"a": PASS}, idempotency_key=key, runKey="b5", shard="1/2")
    again = upload(client, {"a": PASS}, idempotency_key=key, runKey="b5", shard="1/2")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert db.scalar(select(func.count()).select_from(Result)) == 1
    assert db.scalar(select(func.count()).select_from(RunPart)) == 1


def test_a_run_missing_shards_after_the_wait_is_incomplete_until_they_arrive(
    client: TestClient, engine: Engine
) -> None:
    response = upload(client, {"a": PASS}, runKey="nightly", shard="1/2")
    run_id = response.json()["testRunId"]

    _sweep(engine, WAIT - 60)  # still within the wait
    assert run_of(client, response)["status"] == "running"
    _sweep(engine, WAIT + 60)
    run = run_of(client, response)
    assert run["status"] == "incomplete"
    assert run["shards"]["missing"] == [2]
    assert (
        client.get("/api/test-runs", params={"status": "incomplete"}).json()["items"][0]["id"]
        == run_id
    )

    late = upload(client, {"b": PASS}, runKey="nightly", shard="2/2")
    assert run_of(client, late)["status"] == "passed"


def _report_html(shard: str) -> bytes:
    return f"<html><body>report of shard {shard}</body></html>".encode()


def test_each_shard_keeps_its_html_report_labelled_by_its_shard(client: TestClient) -> None:
    """Every Playwright shard uploads its HTML report into the one run: all are kept (a second
    report of a type was refused as ``duplicate_report``, losing that shard's results too)."""
    for spec in ("2/3", "1/3", "3/3"):
        response = upload_with_reports(
            client, {f"t{spec[0]}": PASS}, [("html", _report_html(spec))], runKey="b", shard=spec
        )
        assert response.status_code == 201, response.text
    run = run_of(client, response)
    assert run["counts"]["total"] == 3
    labels = [(r["type"], r["label"]) for r in run["reports"]]
    assert labels == [
        ("html", None),
        ("html", "html report (shard 1/3)"),
        ("html", "html report (shard 3/3)"),
    ]
    for report, spec in zip(run["reports"], ("2/3", "1/3", "3/3"), strict=True):
        body = client.get(report["url"])
        assert body.status_code == 200, body.text
        assert body.content == _report_html(spec)


def test_a_rerun_shard_and_a_part_without_shard_name_their_reports_apart(
    client: TestClient,
) -> None:
    report = [("html", _report_html("x"))]
    labelled = {"runKey": "b", "report_label_html": "E2E"}
    upload_with_reports(client, {"a": FAIL}, report, shard="1/2", **labelled)
    upload_with_reports(client, {"b": PASS}, report, shard="2/2", **labelled)
    upload_with_reports(client, {"a": PASS}, report, shard="1/2", **labelled)  # re-run jobs
    upload_with_reports(client, {"b": PASS}, report, shard="2/2", **labelled)
    matrix = upload_with_reports(client, {"c": PASS}, report, runKey="b")
    assert matrix.status_code == 201, matrix.text
    run = run_of(client, matrix)
    assert [r["label"] for r in run["reports"]] == [
        "E2E",  # the first keeps its label; the re-run of its shard is the first named by it
        "E2E (shard 2/2)",
        "E2E (shard 1/2)",
        "E2E (shard 2/2, part 4)",
        "html report (part 5)",
    ]


def test_two_reports_of_one_type_in_one_part_are_refused_and_the_part_is_not_stored(
    client: TestClient, db: Session
) -> None:
    upload_with_reports(client, {"a": PASS}, [("html", b"<p>1</p>")], runKey="b", shard="1/2")
    twice = [("html", b"<p>2</p>"), ("html", b"<p>3</p>")]
    response = upload_with_reports(client, {"b": PASS}, twice, runKey="b", shard="2/2")
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "duplicate_report"
    assert db.scalar(select(func.count()).select_from(RunPart)) == 1
    assert db.scalar(select(func.count()).select_from(Report)) == 1


def test_a_long_report_label_fits_its_column_with_the_shard_named(client: TestClient) -> None:
    longest = "R" * MAX_REPORT_LABEL_CHARS
    report = [("html", _report_html("x"))]
    for spec in ("1/2", "2/2"):
        response = upload_with_reports(
            client, {f"t{spec[0]}": PASS}, report, runKey="b", shard=spec, report_label_html=longest
        )
        assert response.status_code == 201, response.text
    labels = [r["label"] for r in run_of(client, response)["reports"]]
    assert labels[0] == longest
    assert labels[1].endswith("R (shard 2/2)") and len(labels[1]) == MAX_REPORT_LABEL_CHARS


def test_a_report_label_over_the_limit_is_refused_on_every_database(
    client: TestClient, db: Session
) -> None:
    too_long = "R" * (MAX_REPORT_LABEL_CHARS + 1)
    response = upload_with_reports(
        client, {"a": PASS}, [("html", b"<p>1</p>")], report_label_html=too_long
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "field_too_long"
    assert db.scalar(select(func.count()).select_from(Report)) == 0
