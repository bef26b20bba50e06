"""Ingest over HTTP with the real fixture reports in tests/data (see tests/data/README.md)."""

from __future__ import annotations

import gzip
import hashlib
import io
import random
import struct
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playdeck.ingest.run_fields import CLIENT_NAMES
from playdeck.ingest.use_cases import MAX_OVERRIDE_CHARS
from playdeck.models import Attachment, Attempt, Project, Report, ReportFile, Result, Run, Test
from playdeck.settings import Settings
from tests.fixtures.runs import results_off_their_run
from tests.ingest.live_support import FAIL, PASS, junit

DATA = Path(__file__).parents[1] / "data"
PLAYWRIGHT_JSON = DATA / "playwright" / "report.json"
PLAYWRIGHT_ZIP = DATA / "playwright" / "report.zip"
PHENX_JSON = DATA / "phenx" / "submit.json"
PYTEST_XML = DATA / "junit" / "pytest.xml"


def _count(db: Session, model: type[Any]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def _stored_files(settings: Settings) -> list[Path]:
    root = settings.files_dir
    return [p for p in root.rglob("*") if p.is_file() and "tmp" not in p.parts]


def _assert_nothing_stored(db: Session, settings: Settings) -> None:
    for model in (Run, Test, Result, Attempt, Attachment, Report, ReportFile):
        assert _count(db, model) == 0, model.__name__
    assert _stored_files(settings) == []


def gz_archive(entries: list[tuple[str, bytes]]) -> bytes:
    raw = io.BytesIO()
    for path, content in entries:
        encoded = path.encode()
        raw.write(struct.pack("<I", len(encoded)) + encoded)
        raw.write(struct.pack("<I", len(content)) + content)
    return gzip.compress(raw.getvalue())


def test_submit_phenx_reporter_json_folds_attempts_and_computes_counts(
    client: TestClient, db: Session
) -> None:
    body = orjson.loads(PHENX_JSON.read_bytes())
    response = client.post("/api/test-runs/submit", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["success"] is True
    assert created["url"].endswith(f"/runs/{created['testRunId']}")
    run = db.get(Run, created["testRunId"])
    assert run is not None
    assert run.project_id == created["projectId"]
    assert db.scalar(select(Project.name)) == "playdeck-fixtures"
    # One element per attempt arrives; one result per test is stored, with our own totals.
    outcomes = Counter(db.scalars(select(Result.outcome).where(Result.run_id == run.id)))
    assert run.total == sum(outcomes.values()) == _count(db, Test)
    assert run.total < body["totalTests"]
    assert run.flaky == outcomes["flaky"] >= 1
    assert _count(db, Attempt) == len(body["testCases"])
    assert run.status == "failed"
    assert run.branch == body["metadata"]["scm"]["branch"]
    assert run.source_format == "phenx"


@pytest.mark.parametrize(
    ("public_url", "base"),
    [
        (None, "http://testserver"),
        ("https://playdeck.example.com/ci/", "https://playdeck.example.com/ci"),
    ],
)
def test_the_run_link_starts_with_the_public_url_else_the_requests_own(
    make_client: Callable[[Settings], TestClient],
    make_settings: Callable[..., Settings],
    public_url: str | None,
    base: str,
) -> None:
    client = make_client(make_settings(public_url=public_url))
    body = orjson.loads(PHENX_JSON.read_bytes())
    submitted = client.post("/api/test-runs/submit", json=body)
    files = {"file": ("pytest.xml", PYTEST_XML.read_bytes(), "application/xml")}
    uploaded = client.post("/api/test-runs/upload?projectName=web", files=files)
    for response in (submitted, uploaded):
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["url"] == f"{base}/runs/{created['testRunId']}"


def test_submit_playwright_json_needs_and_uses_project_query(
    client: TestClient, db: Session
) -> None:
    report = PLAYWRIGHT_JSON.read_bytes()
    missing = client.post(
        "/api/test-runs/submit", content=report, headers={"content-type": "application/json"}
    )
    assert missing.status_code == 422
    assert missing.json()["code"] == "project_required"
    response = client.post(
        "/api/test-runs/submit?projectName=web",
        content=report,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 201, response.text
    run = db.get(Run, response.json()["testRunId"])
    assert run is not None
    assert (run.total, run.passed, run.failed, run.flaky, run.skipped) == (26, 18, 2, 2, 4)
    # Same title in two describe blocks and two browser projects: distinct identities.
    assert _count(db, Test) == 26
    projects = set(db.scalars(select(Test.browser_project)))
    assert projects == {"chromium", "chromium-mobile"}
    # Paths point at the producing machine's disk: never read; only inline bodies are stored.
    names = set(db.scalars(select(Attachment.name)))
    assert names == {"inline-note"}
    assert run.meta["missing_attachments"] > 0


def test_test_identity_is_stable_across_runs(client: TestClient, db: Session) -> None:
    report = PLAYWRIGHT_JSON.read_bytes()
    for _ in range(2):
        assert (
            client.post(
                "/api/test-runs/submit?projectName=web",
                content=report,
                headers={"content-type": "application/json"},
            ).status_code
            == 201
        )
    assert _count(db, Test) == 26
    assert _count(db, Result) == 52


def test_results_carry_their_runs_start_and_branch(client: TestClient, db: Session) -> None:
    # Copies the history and flakiness queries read from the results' indexes.
    for fields in ({"branch": "feature/x"}, {}):
        response = client.post(
            "/api/test-runs/upload",
            data={"projectName": "web", **fields},
            files={"file": ("junit.xml", junit({"a": PASS, "b": FAIL}), "application/xml")},
        )
        assert response.status_code == 201, response.text
    assert Counter(db.scalars(select(Result.run_branch))) == {"feature/x": 2, None: 2}
    assert results_off_their_run(db) == []


def test_upload_zip_stores_attachments_by_content(
    client: TestClient, db: Session, settings: Settings
) -> None:
    with PLAYWRIGHT_ZIP.open("rb") as handle:
        response = client.post(
            "/api/test-runs/upload",
            data={"projectName": "web", "branch": "feature/x", "tags": "nightly, smoke"},
            files={"file": ("report.zip", handle, "application/zip")},
        )
    assert response.status_code == 201, response.text
    run = db.get(Run, response.json()["testRunId"])
    assert run is not None
    assert run.branch == "feature/x"
    assert {"nightly", "smoke"} <= set(run.tags)
    assert "missing_attachments" not in run.meta
    names = Counter(db.scalars(select(Attachment.name)))
    assert names["screenshot"] >= 2 and names["trace"] >= 2
    with zipfile.ZipFile(PLAYWRIGHT_ZIP) as archive:
        screenshot = next(n for n in archive.namelist() if n.endswith("test-failed-1.png"))
        expected_sha = hashlib.sha256(archive.read(screenshot)).hexdigest()
    stored = db.scalars(select(Attachment).where(Attachment.sha256 == expected_sha)).first()
    assert stored is not None and stored.content_type == "image/png"
    blob = settings.files_dir / expected_sha[:2] / expected_sha[2:4] / expected_sha
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == expected_sha


def test_upload_pytest_junit(client: TestClient, db: Session) -> None:
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "api"},
        files={"file": ("pytest.xml", PYTEST_XML.read_bytes(), "application/xml")},
    )
    assert response.status_code == 201, response.text
    run = db.get(Run, response.json()["testRunId"])
    assert run is not None
    assert run.source_format == "junit"
    assert run.failed >= 1 and run.skipped >= 1 and run.passed >= 1


def test_upload_phenx_reporter_form_with_gz_report_and_trace(
    client: TestClient, db: Session
) -> None:
    body = orjson.loads(PHENX_JSON.read_bytes())
    test_cases = body.pop("testCases")
    test_run = {k: body[k] for k in ("status", "startTime", "duration", "metadata")}
    failing = next(i for i, c in enumerate(test_cases) if c["status"] == "failed")
    html = gz_archive([("index.html", b"<html>report</html>"), ("data/a.zip", b"PK-data")])
    response = client.post(
        "/api/test-runs/upload",
        data={
            "projectName": "seed",
            "testRun": orjson.dumps(test_run).decode(),
            "testCases": orjson.dumps(test_cases).decode(),
            "report_label_html": "HTML report",
        },
        files=[
            ("report_html", ("html-report.gz", html, "application/gzip")),
            ("report_blob", ("blob.zip", b"PK\x05\x06" + b"\x00" * 18, "application/zip")),
            (f"trace_{failing}", ("trace.zip", b"trace-bytes", "application/zip")),
        ],
    )
    assert response.status_code == 201, response.text
    reports = {r.type: r for r in db.scalars(select(Report))}
    assert set(reports) == {"html", "blob"}
    assert reports["html"].label == "HTML report"
    assert reports["html"].entry == "index.html"
    paths = set(
        db.scalars(select(ReportFile.path).where(ReportFile.report_id == reports["html"].id))
    )
    assert paths == {"index.html", "data/a.zip"}
    trace = db.scalars(select(Attachment).where(Attachment.name == "trace")).one()
    assert trace.sha256 == hashlib.sha256(b"trace-bytes").hexdigest()
    attempt = db.get(Attempt, trace.attempt_id)
    assert attempt is not None and attempt.status == "failed"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"[1, 2]", 422, "invalid_report"),
        (
            b'{"projectName": "x", "status": "passed", "startTime": 5, '
            b'"testCases": [{"title": 3}]}',
            422,
            "invalid_report",
        ),
        (b"\xff\xfe\x00garbage", 400, "malformed_json"),
        (b'{"suites": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, "malformed_json"),
    ],
)
def test_bad_submit_bodies_are_refused_and_store_nothing(
    client: TestClient, db: Session, settings: Settings, body: bytes, status: int, code: str
) -> None:
    response = client.post(
        "/api/test-runs/submit", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    _assert_nothing_stored(db, settings)
    assert _count(db, Project) == 0


def test_invalid_report_error_says_where(client: TestClient) -> None:
    body = orjson.loads(PHENX_JSON.read_bytes())
    body["testCases"][3]["duration"] = "slow"
    response = client.post("/api/test-runs/submit", json=body)
    assert response.status_code == 422
    assert "testCases[3]" in response.json()["detail"]


def _zip(entries: dict[str, bytes], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "archive",
    [
        pytest.param(_zip({"../evil.json": b"{}"}), id="dot-dot"),
        pytest.param(_zip({"/abs/report.json": b"{}"}), id="absolute"),
        pytest.param(_zip({"report.json": b"{}"}, symlink="link"), id="symlink"),
        pytest.param(_zip({f"f{i}.txt": b"x" for i in range(30)}), id="too-many-entries"),
        pytest.param(b"PK\x03\x04 this is not really a zip", id="corrupt"),
    ],
)
def test_hostile_zips_are_refused_with_400(
    make_settings: Any, make_client: Any, db: Session, archive: bytes
) -> None:
    settings = make_settings(max_archive_entries=20)
    client = make_client(settings)
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "x"},
        files={"file": ("report.zip", archive, "application/zip")},
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_archive"
    _assert_nothing_stored(db, settings)


def test_zip_bomb_is_refused_before_unpacking(
    make_settings: Any, make_client: Any, db: Session
) -> None:
    settings = make_settings(max_unpacked_mb=1)
    client = make_client(settings)
    archive = _zip({"report.json": b"{}", "big.bin": b"\x00" * (2 * 1024 * 1024)})
    assert len(archive) < 100_000
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "x"},
        files={"file": ("report.zip", archive, "application/zip")},
    )
    assert response.status_code == 400
    _assert_nothing_stored(db, settings)


def test_gz_report_with_traversal_is_refused(
    client: TestClient, db: Session, settings: Settings
) -> None:
    body = orjson.loads(PHENX_JSON.read_bytes())
    response = client.post(
        "/api/test-runs/upload",
        data={
            "projectName": "seed",
            "testRun": orjson.dumps({"status": "passed", "startTime": body["startTime"]}).decode(),
            "testCases": "[]",
        },
        files={
            "report_html": (
                "html-report.gz",
                gz_archive([("../../x.html", b"x")]),
                "application/gzip",
            )
        },
    )
    assert response.status_code == 400
    _assert_nothing_stored(db, settings)


def test_billion_laughs_junit_is_refused(
    client: TestClient, db: Session, settings: Settings
) -> None:
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "x"},
        files={
            "file": (
                "hostile.xml",
                (DATA / "junit" / "hostile-entities.xml").read_bytes(),
                "application/xml",
            )
        },
    )
    assert response.status_code in (400, 422)
    assert "entit" in response.json()["detail"].lower()
    _assert_nothing_stored(db, settings)


def test_malformed_junit_says_where(client: TestClient) -> None:
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "x"},
        files={
            "file": ("bad.xml", (DATA / "junit" / "malformed.xml").read_bytes(), "application/xml")
        },
    )
    assert response.status_code in (400, 422)
    assert "line" in response.json()["detail"].lower()


def test_failure_midway_rolls_back_rows_and_files(
    make_settings: Any, make_client: Any, db: Session
) -> None:
    """The run, tests and already-stored files vanish when a later attachment is refused."""
    settings = make_settings(max_upload_mb=1)
    client = make_client(settings)
    report = orjson.loads(PLAYWRIGHT_JSON.read_bytes())
    # A small attachment stored first, then one larger than the limit (compresses to ~nothing).
    suite = report["suites"][0]
    while not suite.get("specs"):
        suite = suite["suites"][0]
    result = suite["specs"][0]["tests"][0]["results"][0]
    result["attachments"] = [
        {"name": "small", "contentType": "text/plain", "path": "small.txt"},
        {"name": "huge", "contentType": "text/plain", "path": "huge.txt"},
    ]
    archive = _zip(
        {
            "report.json": orjson.dumps(report),
            "small.txt": b"tiny but stored first",
            "huge.txt": random.Random(7).randbytes(4096) * 512,
        }
    )
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "web"},
        files={"file": ("report.zip", archive, "application/zip")},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "attachment_too_large"
    _assert_nothing_stored(db, settings)
    assert _count(db, Project) == 0


def test_upload_without_a_report_part_is_refused(client: TestClient) -> None:
    response = client.post(
        "/api/test-runs/upload", data={"projectName": "x"}, files={"other": ("a", b"b")}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "no_report"


def _upload_junit_with(client: TestClient, fields: dict[str, str]) -> httpx.Response:
    response: httpx.Response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "api", **fields},
        files={"file": ("pytest.xml", PYTEST_XML.read_bytes(), "application/xml")},
    )
    return response


@pytest.mark.parametrize("field", [*CLIENT_NAMES, "tags"])
def test_upload_refuses_an_overlong_run_field_and_stores_nothing(
    client: TestClient, db: Session, settings: Settings, field: str
) -> None:
    response = _upload_junit_with(client, {field: "x" * (MAX_OVERRIDE_CHARS + 1)})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "field_too_long"
    assert response.json()["detail"] == f"{field} is too long"
    _assert_nothing_stored(db, settings)
    assert _count(db, Project) == 0


@pytest.mark.parametrize("tags", ['["smoke", 3]', ' [["smoke"]]', "[null]"])
def test_upload_refuses_json_tags_that_are_not_a_list_of_strings_and_stores_nothing(
    client: TestClient, db: Session, settings: Settings, tags: str
) -> None:
    response = _upload_junit_with(client, {"tags": tags})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_tags"
    _assert_nothing_stored(db, settings)
    assert _count(db, Project) == 0


def test_upload_refuses_tags_that_start_a_json_list_but_are_not_json(
    client: TestClient, db: Session, settings: Settings
) -> None:
    response = _upload_junit_with(client, {"tags": '["smoke", "nightly"'})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "malformed_json"
    _assert_nothing_stored(db, settings)
    assert _count(db, Project) == 0


def test_upload_needs_multipart(client: TestClient) -> None:
    response = client.post("/api/test-runs/upload", json={"projectName": "x"})
    assert response.status_code == 415


def test_auto_create_off_refuses_unknown_project(
    make_settings: Any, make_client: Any, db: Session
) -> None:
    client = make_client(make_settings(auto_create_projects=False))
    response = client.post("/api/test-runs/submit", json=orjson.loads(PHENX_JSON.read_bytes()))
    assert response.status_code == 404
    assert _count(db, Run) == 0


def test_upload_json_report_with_attachment_parts(client: TestClient, db: Session) -> None:
    """Playdeck's own reporters send the report and its files as separate parts."""
    report = orjson.loads(PLAYWRIGHT_JSON.read_bytes())
    suite = report["suites"][0]
    while not suite.get("specs"):
        suite = suite["suites"][0]
    result = suite["specs"][0]["tests"][0]["results"][0]
    result["attachments"] = [
        {"name": "screenshot", "contentType": "image/png", "path": "attachments/0-shot.png"},
        {"name": "again", "contentType": "image/png", "path": "attachments/0-shot.png"},
    ]
    response = client.post(
        "/api/test-runs/upload",
        data={
            "projectName": "web",
            "commitMessage": "fix: it",
            "author": "ann",
            "buildNumber": "42",
        },
        files=[
            ("file", ("report.json", orjson.dumps(report), "application/json")),
            ("attachment", ("attachments/0-shot.png", b"\x89PNG-bytes", "image/png")),
        ],
    )
    assert response.status_code == 201, response.text
    run = db.get(Run, response.json()["testRunId"])
    assert run is not None
    assert (run.commit_message, run.author, run.ci_build_number) == ("fix: it", "ann", "42")
    stored = db.scalars(
        select(Attachment).where(Attachment.name.in_(["screenshot", "again"]))
    ).all()
    assert len(stored) == 2
    assert {a.sha256 for a in stored} == {hashlib.sha256(b"\x89PNG-bytes").hexdigest()}


def test_attachment_part_with_traversal_name_is_refused(client: TestClient, db: Session) -> None:
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "web"},
        files=[
            ("file", ("report.json", PLAYWRIGHT_JSON.read_bytes(), "application/json")),
            ("attachment", ("../../etc/passwd", b"x", "text/plain")),
        ],
    )
    assert response.status_code == 400
    assert _count(db, Run) == 0


def test_mochawesome_upload_is_refused_as_unrecognised_not_read_as_playwright(
    client: TestClient, db: Session, settings: Settings
) -> None:
    report = (DATA / "mochawesome" / "mochawesome.json").read_bytes()
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "cypress"},
        files={"file": ("mochawesome.json", report, "application/json")},
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "invalid_report"
    assert problem["detail"].startswith("Invalid report: unrecognised JSON report: expected ")
    _assert_nothing_stored(db, settings)
    assert _count(db, Project) == 0


def _run_counts(db: Session, response: Any) -> tuple[int, int, int, int]:
    assert response.status_code == 201, response.text
    run = db.get(Run, response.json()["testRunId"])
    assert run is not None
    return run.total, run.passed, run.failed, run.skipped


def test_zip_of_junit_shards_is_one_run_and_skips_files_that_are_no_report(
    client: TestClient, db: Session
) -> None:
    shards = {
        "shard-1/pytest.xml": PYTEST_XML.read_bytes(),
        "shard-2/reruns.xml": (DATA / "junit" / "pytest-reruns.xml").read_bytes(),
    }
    strays = {
        "config/checkstyle.xml": b'<?xml version="1.0"?><checkstyle version="10.0"/>',
        "mochawesome.json": (DATA / "mochawesome" / "mochawesome.json").read_bytes(),
    }
    zipped = client.post(
        "/api/test-runs/upload",
        data={"projectName": "zipped"},
        files={"file": ("shards.zip", _zip({**shards, **strays}), "application/zip")},
    )
    as_parts = client.post(
        "/api/test-runs/upload",
        data={"projectName": "parts"},
        files=[("file", (name, body, "application/xml")) for name, body in shards.items()],
    )
    assert _run_counts(db, zipped) == _run_counts(db, as_parts)
    assert _run_counts(db, zipped)[0] > 0


def test_zip_without_any_report_names_what_it_looks_for(client: TestClient) -> None:
    archive = _zip({"notes/checkstyle.xml": b"<checkstyle/>", "shot.png": b"\x89PNG"})
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "x"},
        files={"file": ("report.zip", archive, "application/zip")},
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "the zip holds no report" in detail and "JUnit XML" in detail
