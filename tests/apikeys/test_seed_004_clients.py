"""The PhenX dashboard's clients, unchanged, against a real Playdeck server with authentication on.

The reporter (``@phenx/playwright-dashboard-reporter``, wire contract in
``/work/shared/contracts/phenx-reporter.md``) is emulated byte for byte with httpx: a chunked
multipart upload with ``testRun``, ``testCases``, a ``.gz`` report archive and a trace, its JSON
fallback on ``/api/test-runs/submit``, authenticated by an API key or by replaying the login's
cookies. The PhenX guide's curl examples run as written, host and key aside.
"""

from __future__ import annotations

import gzip
import io
import json
import shlex
import shutil
import struct
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Attachment, Attempt, Project, Report, Result, Run, Test, User
from tests.fixtures.servers import LiveServer

from .support import INVALID_KEY, PASSWORD, PHENX_SUBMIT, SECRET, phenx_run


@pytest.fixture
def server(make_live_server: Callable[..., LiveServer]) -> LiveServer:
    return make_live_server(require_auth=True, secret_key=SECRET)


# --- the reporter's wire format ------------------------------------------------------------


def _gz_report(entries: list[tuple[str, bytes]]) -> bytes:
    """The reporter's archive: [u32 LE path length][path][u32 LE content length][content]..."""
    raw = io.BytesIO()
    for path, content in entries:
        encoded = path.encode()
        raw.write(struct.pack("<I", len(encoded)) + encoded)
        raw.write(struct.pack("<I", len(content)) + content)
    return gzip.compress(raw.getvalue())


def _upload_request(url: str, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The multipart body the reporter sends, and its headers (sent chunked, as it does)."""
    run = phenx_run()
    cases = run.pop("testCases")
    test_run = {
        key: run[key]
        for key in (
            "status",
            "startTime",
            "duration",
            "totalTests",
            "passedTests",
            "failedTests",
            "skippedTests",
            "metadata",
        )
    }
    test_run["projectDescription"] = "checkout flows"
    failing = next(i for i, case in enumerate(cases) if case["status"] == "failed")
    request = httpx.Request(
        "POST",
        url,
        data={
            "projectName": "phenx-shop",
            "testRun": json.dumps(test_run),
            "testCases": json.dumps(cases),
            "report_label_html": "HTML report",
        },
        files=[
            (
                "report_html",
                (
                    "html-report.gz",
                    _gz_report([("index.html", b"<html>ok</html>")]),
                    "application/gzip",
                ),
            ),
            (f"trace_{failing}", ("trace.zip", b"PK\x03\x04trace", "application/zip")),
        ],
    )
    body = request.read()
    return body, {**headers, "Content-Type": request.headers["content-type"]}


def _chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def reporter_upload(server: LiveServer, headers: dict[str, str]) -> httpx.Response:
    body, sent = _upload_request(f"{server.url}/api/test-runs/upload", headers)
    # A generator body has no length: httpx sends it with Transfer-Encoding: chunked.
    return httpx.post(
        f"{server.url}/api/test-runs/upload", content=_chunks(body), headers=sent, timeout=30
    )


def reporter_submit(server: LiveServer, headers: dict[str, str]) -> httpx.Response:
    """The reporter's fallback when the upload fails: the same data as JSON."""
    return httpx.post(
        f"{server.url}/api/test-runs/submit",
        content=json.dumps(phenx_run("phenx-shop")),
        headers={**headers, "Content-Type": "application/json"},
        timeout=30,
    )


def reporter_login(server: LiveServer, username: str, password: str) -> dict[str, str]:
    """Log in as the reporter does: every Set-Cookie's name=value, joined with '; ', replayed
    as one Cookie header (no cookie jar, no CSRF token, no Origin)."""
    response = httpx.post(
        f"{server.url}/api/auth/login",
        json={"username": username, "password": password},
        timeout=30,
    )
    response.raise_for_status()  # the reporter throws on a non-2xx login
    pairs = [cookie.split(";", 1)[0].strip() for cookie in response.headers.get_list("set-cookie")]
    assert pairs, "the login set no cookie"
    return {"Cookie": "; ".join(pairs)}


def assert_folded_run(db: Session, created: dict[str, Any]) -> Run:
    """The run as Playdeck must store it: one test per test, not one per attempt."""
    assert created["success"] is True
    db.rollback()  # a fresh snapshot of what the server committed
    run = db.get(Run, created["testRunId"])
    assert run is not None
    assert run.project_id == created["projectId"]
    assert db.get(Project, run.project_id).name == "phenx-shop"  # type: ignore[union-attr]
    cases = json.loads(PHENX_SUBMIT.read_text())["testCases"]
    tests = {(c["title"], c["location"]) for c in cases}
    rows = db.execute(
        select(Test.title, Result)
        .join(Test, Test.id == Result.test_id)
        .where(Result.run_id == run.id)
    ).all()
    results = {title: result for title, result in rows if title != "adds item"}
    # 30 attempts arrive: 13 tests (title and location) run by two Playwright projects, retries
    # as their own elements. Each project's retry chain is a test of its own (the format names
    # no project: "project 1", "project 2"), so 26 tests are stored.
    assert (len(cases), len(tests)) == (30, 13)
    assert run.total == len(rows) == 2 * len(tests)
    flaky = results["flaky on first attempt"]
    # Failed, then passed on retry: one flaky test per project, not a failed and a passed one.
    assert flaky.outcome == "flaky"
    assert [title for title, _result in rows].count("flaky on first attempt") == 2
    assert results["failing expectation"].outcome == "failed"
    assert (run.flaky, run.failed) == (2, Counter(r.outcome for _title, r in rows)["failed"])
    attempts = db.scalars(
        select(Attempt).join(Result, Result.id == Attempt.result_id).where(Result.run_id == run.id)
    ).all()
    assert len(attempts) == len(cases)
    return run


def assert_files_arrived(db: Session, run: Run) -> None:
    report = db.scalars(select(Report).where(Report.run_id == run.id)).one()
    assert (report.type, report.label, report.entry) == ("html", "HTML report", "index.html")
    trace = db.scalars(select(Attachment).where(Attachment.name == "trace")).one()
    attempt = db.get(Attempt, trace.attempt_id)
    assert attempt is not None and attempt.status == "failed"


def test_reporter_uploads_with_an_api_key(
    server: LiveServer,
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
    db: Session,
) -> None:
    key = make_api_key(make_account("ci"))

    response = reporter_upload(server, {"Authorization": f"Bearer {key}"})

    assert response.status_code == 201, response.text
    run = assert_folded_run(db, response.json())
    assert_files_arrived(db, run)


def test_reporter_json_fallback_with_an_api_key(
    server: LiveServer,
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
    db: Session,
) -> None:
    key = make_api_key(make_account("ci"), scopes=["runs:write"])
    response = reporter_submit(server, {"Authorization": f"Bearer {key}"})
    assert response.status_code == 201, response.text
    assert_folded_run(db, response.json())


def test_reporter_uploads_with_username_and_password(
    server: LiveServer, make_account: Callable[..., User], db: Session
) -> None:
    make_account("ci", role="reporter", password=PASSWORD)

    cookie = reporter_login(server, "ci", PASSWORD)
    uploaded = reporter_upload(server, cookie)
    submitted = reporter_submit(server, cookie)

    assert uploaded.status_code == 201, uploaded.text
    assert submitted.status_code == 201, submitted.text
    assert_files_arrived(db, assert_folded_run(db, uploaded.json()))
    assert_folded_run(db, submitted.json())


def test_reporter_with_a_wrong_key_or_password_stores_nothing(
    server: LiveServer,
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
    db: Session,
) -> None:
    make_api_key(make_account("ci", password=PASSWORD))
    wrong_key = "pd_" + "f" * 64

    refused = reporter_upload(server, {"Authorization": f"Bearer {wrong_key}"})
    fallback = reporter_submit(server, {"Authorization": f"Bearer {wrong_key}"})
    login = httpx.post(
        f"{server.url}/api/auth/login",
        json={"username": "ci", "password": "not the password at all"},
        timeout=30,
    )

    assert refused.status_code == fallback.status_code == 401
    assert refused.json()["detail"] == INVALID_KEY
    assert login.status_code == 401  # the reporter throws here and sends nothing
    assert db.scalars(select(Run)).all() == []


# --- the PhenX guide's curl examples ---------------------------------------------------------

CURL_BEARER = """curl -X POST https://your-dashboard.example.com/api/test-runs/submit \\
-H "Authorization: Bearer pd_<your-key>" \\
-H "Content-Type: application/json" \\
-d '{ ... }'"""

CURL_X_API_KEY = """curl -X POST https://your-dashboard.example.com/api/test-runs/submit \\
-H "X-API-Key: pd_<your-key>" \\
-H "Content-Type: application/json" \\
-d '{ ... }'"""


def _curl(command: str, server: LiveServer, key: str) -> tuple[int, dict[str, Any]]:
    """Run the guide's example through bash as a reader would paste it: the host, the key and
    the ``{ ... }`` body (the reporter's JSON fixture) filled in."""
    command = command.replace("https://your-dashboard.example.com", server.url)
    command = command.replace("pd_<your-key>", key)
    command = command.replace("'{ ... }'", shlex.quote(f"@{PHENX_SUBMIT}"))
    flags = ["--silent", "--show-error", "--write-out", "\n%{http_code}"]
    done = subprocess.run(
        ["bash", "-c", f"{command} {shlex.join(flags)}"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(body) if body else {}


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
@pytest.mark.parametrize("example", [CURL_BEARER, CURL_X_API_KEY], ids=["bearer", "x-api-key"])
def test_phenx_curl_examples_submit_with_a_key(
    server: LiveServer,
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
    db: Session,
    example: str,
) -> None:
    key = make_api_key(make_account("ci"))

    status, created = _curl(example, server, key)
    refused, problem = _curl(example, server, "pd_" + "0" * 64)

    assert status == 201, created
    run = db.get(Run, created["testRunId"])
    assert run is not None and (run.total, run.flaky) == (26, 2)  # 13 tests on two projects
    assert (refused, problem["detail"]) == (401, INVALID_KEY)
