from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from playdeck.ingest.records import AttachmentRecord
from playdeck.kit.clock import utcnow
from playdeck.models import Attachment, Attempt, Report, ReportFile, Result, Run, Test
from playdeck.settings import Settings
from playdeck.storage.filesystem import FilesystemBlobStore
from playdeck.storage.gc import sweep

from .conftest import MakeRun, case, html_report


def test_runs_are_listed_newest_first_with_counts_and_metadata(
    client: TestClient, make_run: MakeRun
) -> None:
    old = make_run([case("a")], started_at=5)
    new = make_run(
        [case("a"), case("b", "failed"), case("c", "flaky"), case("d", "skipped")],
        started_at=1,
        name="nightly",
        branch="main",
        commit_sha="abc123",
        commit_message="Fix the cart",
        author="Ada",
        ci_provider="github",
        ci_build_number="42",
        ci_build_url="https://ci.example/42",
        environment="staging",
        tags=["smoke"],
    )
    response = client.get("/api/test-runs")
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [new, old]
    assert body["next_cursor"] is None
    item = body["items"][0]
    assert item["project"]["name"] == "Demo"
    assert item["project"]["slug"] == "demo"
    assert item["status"] == "failed"
    assert item["counts"] == {
        "total": 4,
        "passed": 1,
        "failed": 1,
        "flaky": 1,
        "skipped": 1,
        "timedout": 0,
        "interrupted": 0,
        "error": 0,
        "xfailed": 0,
        "xpassed": 0,
    }
    # Skipped tests are left out; flaky ones passed in the end.
    assert item["pass_rate"] == round(2 / 3, 4)
    assert item["ci"] == {
        "provider": "github",
        "build_number": "42",
        "build_url": "https://ci.example/42",
    }
    assert (item["name"], item["branch"], item["commit"], item["author"]) == (
        "nightly",
        "main",
        "abc123",
        "Ada",
    )
    assert item["commit_message"] == "Fix the cart"
    assert item["environment"] == "staging"
    assert item["tags"] == ["smoke"]
    assert item["source_format"] == "playwright"
    assert item["url"] == f"http://testserver/runs/{new}"


def test_run_list_pages_are_stable_when_runs_share_a_start_time(
    client: TestClient, make_run: MakeRun
) -> None:
    same = utcnow() - timedelta(hours=1)
    ids = [make_run([case("a")], started_at=same) for _ in range(5)]
    ids.append(make_run([case("a")], started_at=2))
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/test-runs", params=params).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [*sorted(ids[:5], reverse=True), ids[5]]


def test_runs_are_filtered_by_project_branch_status_and_time(
    client: TestClient, make_run: MakeRun
) -> None:
    main_pass = make_run([case("a")], branch="main", started_at=30)
    main_fail = make_run([case("a", "failed")], branch="main", started_at=20)
    feature = make_run([case("a")], branch="feature", started_at=10)
    other = make_run([case("a")], project="Other", branch="main", started_at=5)

    def ids(**params: str) -> list[int]:
        response = client.get("/api/test-runs", params=params)
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["items"]]

    assert ids(project="demo") == [feature, main_fail, main_pass]
    project_id = client.get("/api/projects/other").json()["id"]
    assert ids(project=str(project_id)) == [other]
    assert ids(branch="main") == [other, main_fail, main_pass]
    assert ids(project="demo", branch="main", status="failed") == [main_fail]
    assert ids(status="passed,failed", branch="feature") == [feature]
    since = (utcnow() - timedelta(hours=25)).isoformat()
    until = (utcnow() - timedelta(hours=8)).isoformat()
    assert ids(since=since, until=until) == [feature, main_fail]


def test_run_list_rejects_bad_query_values(client: TestClient, make_run: MakeRun) -> None:
    make_run([case("a")])
    for params, code in [
        ({"status": "passed,bogus"}, "invalid_status"),
        ({"cursor": "not-a-cursor!"}, "invalid_cursor"),
        ({"cursor": "WyJ4IiwgInkiXQ"}, "invalid_cursor"),  # ["x", "y"]
        ({"limit": "0"}, "invalid_input"),
        ({"limit": "501"}, "invalid_input"),
        ({"since": "yesterday"}, "invalid_input"),
        ({"since": "2024-02-01T00:00:00Z", "until": "2024-01-01T00:00:00Z"}, "invalid_range"),
    ]:
        response = client.get("/api/test-runs", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code, params


def test_unknown_project_filter_is_404(client: TestClient) -> None:
    response = client.get("/api/test-runs", params={"project": "nope"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_run_detail_has_metadata_and_report_links(client: TestClient, make_run: MakeRun) -> None:
    run_id = make_run(
        [case("a")],
        metadata={"shard": "1/2"},
        reports=[html_report(("index.html", b"<html></html>"), entry="index.html")],
    )
    response = client.get(f"/api/test-runs/{run_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == run_id
    assert body["metadata"] == {"shard": "1/2"}
    assert body["counts"]["total"] == 1
    [report] = body["reports"]
    assert report["type"] == "playwright-html"
    assert report["label"] == "HTML report"
    assert report["url"] == f"/api/reports/{report['id']}/index.html"


def test_unknown_or_malformed_run_ids(client: TestClient) -> None:
    missing = client.get("/api/test-runs/999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    for bad in ("abc", "0", str(2**64)):
        assert client.get(f"/api/test-runs/{bad}").status_code == 422, bad
    assert client.delete("/api/test-runs/999999").status_code == 404


def test_deleting_a_run_removes_rows_and_only_files_no_other_run_uses(
    client: TestClient, make_run: MakeRun, db: Session, store: FilesystemBlobStore
) -> None:
    shared = AttachmentRecord(name="shared.txt", content_type="text/plain", body=b"same bytes")
    mine = AttachmentRecord(name="mine.png", content_type="image/png", body=b"\x89PNG only here")
    doomed = make_run(
        [case("a", "failed", attachments=[shared, mine])],
        reports=[html_report(("index.html", b"<p>doomed report</p>"))],
    )
    keeper = make_run([case("a", "failed", attachments=[shared])])
    shared_sha = db.scalars(select(Attachment.sha256).where(Attachment.run_id == keeper)).one()
    doomed_shas = set(db.scalars(select(Attachment.sha256).where(Attachment.run_id == doomed)))
    report_sha = db.scalars(select(ReportFile.sha256)).one()
    mine_sha = (doomed_shas - {shared_sha}).pop()
    assert all(store.exists(s) for s in (shared_sha, mine_sha, report_sha))
    # Files claimed within the grace period wait for a sweep (a concurrent ingest may be
    # about to commit a reference): these were stored long ago.
    _age_all(store, 2 * 3600)

    response = client.delete(f"/api/test-runs/{doomed}")
    assert response.status_code == 204

    db.rollback()  # end the read snapshot taken above
    assert db.get(Run, doomed) is None
    for model in (Result, Attachment, Report):
        assert db.scalar(select(func.count()).select_from(model).where(model.run_id == doomed)) == 0
    assert db.scalar(select(func.count()).select_from(ReportFile)) == 0
    assert db.scalar(select(func.count()).select_from(Attempt)) == 2  # the keeper's two tries
    assert db.scalar(select(func.count()).select_from(Test)) == 1  # identities stay
    assert store.exists(shared_sha)
    assert not store.exists(mine_sha)
    assert not store.exists(report_sha)
    assert client.get(f"/api/test-runs/{doomed}").status_code == 404
    assert client.get(f"/api/test-runs/{keeper}").status_code == 200


def _age_all(store: FilesystemBlobStore, seconds: float) -> None:
    then = time.time() - seconds
    for blob in store.iter_blobs():
        os.utime(store.root / blob.name[:2] / blob.name[2:4] / blob.name, (then, then))


def test_a_deleted_runs_recently_claimed_files_wait_for_the_sweep(
    client: TestClient,
    make_run: MakeRun,
    db: Session,
    store: FilesystemBlobStore,
    engine: Engine,
) -> None:
    """A file claimed within the grace period may belong to an ingest not yet committed."""
    recent = AttachmentRecord(name="recent.png", content_type="image/png", body=b"fresh bytes")
    run_id = make_run([case("a", "failed", attachments=[recent])])
    sha = db.scalars(select(Attachment.sha256).where(Attachment.run_id == run_id)).one()
    assert client.delete(f"/api/test-runs/{run_id}").status_code == 204
    assert store.exists(sha)
    _age_all(store, 2 * 3600)
    report = sweep(engine, store, grace_seconds=3600, apply=True)
    assert report.orphans == 1
    assert not store.exists(sha)


def test_hidden_runs_answer_404_like_missing_ones(
    outsider: TestClient, make_run: MakeRun, db: Session
) -> None:
    run_id = make_run([case("a")])
    assert outsider.get("/api/test-runs").json() == {"items": [], "next_cursor": None}
    for path in (
        f"/api/test-runs/{run_id}",
        f"/api/test-runs/{run_id}/tests",
        "/api/test-runs?project=demo",
    ):
        response = outsider.get(path)
        assert response.status_code == 404, path
    response = outsider.delete(f"/api/test-runs/{run_id}")
    assert response.status_code == 404
    assert db.get(Run, run_id) is not None


def test_anonymous_callers_need_public_read(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_run: MakeRun,
    db: Session,
) -> None:
    run_id = make_run([case("a")])
    private = make_client(auth_settings())
    assert private.get("/api/test-runs").status_code == 401
    assert private.get(f"/api/test-runs/{run_id}").status_code == 401
    public = make_client(auth_settings(public_read=True))
    assert [i["id"] for i in public.get("/api/test-runs").json()["items"]] == [run_id]
    assert public.get(f"/api/test-runs/{run_id}").status_code == 200
    # Reading is public; deleting never is.
    assert public.delete(f"/api/test-runs/{run_id}").status_code == 401
    assert db.get(Run, run_id) is not None


def test_reporter_accounts_cannot_read_or_delete_runs(
    signed_in: Callable[..., TestClient], make_run: MakeRun, db: Session
) -> None:
    run_id = make_run([case("a")])
    reporter = signed_in("ci-bot", role="reporter")
    for path in ("/api/test-runs", f"/api/test-runs/{run_id}", f"/api/test-runs/{run_id}/tests"):
        assert reporter.get(path).status_code == 403, path
    assert reporter.delete(f"/api/test-runs/{run_id}").status_code == 403
    assert db.get(Run, run_id) is not None


def test_signed_in_admins_read_and_delete(
    signed_in: Callable[..., TestClient], make_run: MakeRun
) -> None:
    run_id = make_run([case("a")])
    admin = signed_in("root", role="admin")
    assert [i["id"] for i in admin.get("/api/test-runs").json()["items"]] == [run_id]
    assert admin.delete(f"/api/test-runs/{run_id}").status_code == 204
    assert admin.get(f"/api/test-runs/{run_id}").status_code == 404
