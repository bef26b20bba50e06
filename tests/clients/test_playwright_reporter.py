"""Playdeck's Playwright reporter (clients/playwright-reporter), end to end.

Real ``@playwright/test`` runs the suite in tests/clients/playwright-project/ with Debian's
chromium and the reporter sends the run to a real Playdeck server on a free port; the test then
reads what the server stored. Authentication: one run sends a real API key to a real server with
authentication on (each ``playwright test`` run costs seconds, so just one); the other credential
cases run against a small stand-in server over a real socket that records exactly what the login
and the upload carried.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp
from typer.testing import CliRunner

from playdeck.cli.main import app
from playdeck.ingest.parsers.playwright_json import parse_playwright_json
from playdeck.models import ApiKey, Attachment, Attempt, Project, Result, Run, Test, User
from playdeck.settings import Settings
from playdeck.storage.filesystem import FilesystemBlobStore
from tests.ingest.reference_playwright_json import parse_playwright_json_dicts

ROOT = Path(__file__).resolve().parents[2]
REPORTER = ROOT / "clients" / "playwright-reporter"
PROJECT = Path(__file__).resolve().parent / "playwright-project"
CHROMIUM = Path(os.environ.get("PLAYDECK_CHROMIUM", "/usr/bin/chromium"))
PLAYWRIGHT_SECONDS = 150
PASSWORD = "correct horse battery staple"

# Variables that would make the reporter find a CI, a server or credentials of the machine that
# runs these tests instead of the ones each test sets.
_FOREIGN_PREFIXES = (
    "PLAYDECK_",
    "GITHUB_",
    "GITLAB_",
    "CI_",
    "CIRCLE",
    "JENKINS_",
    "BUILD_",
    "GIT_",
    "CHANGE_",
)
_FOREIGN_NAMES = {"CI", "BRANCH_NAME", "FORCE_COLOR"}


class LiveServer(Protocol):
    """What tests/conftest.py's ``make_live_server`` returns."""

    url: str
    settings: Settings


def _clean_environment() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if name not in _FOREIGN_NAMES and not name.startswith(_FOREIGN_PREFIXES)
    }


@pytest.fixture
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("Node.js is not installed: the Playwright reporter needs node >= 18")
    return path


def _node_major(node: str) -> int:
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return int(version.strip().lstrip("v").split(".")[0])


def _required_node_major() -> int:
    package = PROJECT / "node_modules" / "@playwright" / "test" / "package.json"
    engines = orjson.loads(package.read_bytes()).get("engines", {}).get("node", "")
    match = re.search(r"\d+", engines)
    return int(match.group()) if match else 18


@pytest.fixture
def playwright_env(node: str, tmp_path: Path) -> dict[str, str]:
    """Environment for one ``playwright test`` run: clean of CI variables, output in tmp_path."""
    if not (PROJECT / "node_modules" / "@playwright" / "test").is_dir():
        pytest.skip(
            "@playwright/test is not installed: "
            "npm ci --prefix tests/clients/playwright-project --no-audit --no-fund"
        )
    required = _required_node_major()
    if _node_major(node) < required:
        pytest.skip(f"@playwright/test needs node >= {required}")
    env = _clean_environment()
    env["PLAYDECK_E2E_OUTPUT_DIR"] = str(tmp_path / "test-results")
    env["PLAYDECK_CHROMIUM"] = str(CHROMIUM)
    return env


@pytest.fixture
def chromium() -> Path:
    if not CHROMIUM.is_file():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


def _playwright(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    npx = shutil.which("npx", path=env.get("PATH"))
    assert npx is not None, "npx comes with node"
    return subprocess.run(
        [npx, "playwright", "test", *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=PLAYWRIGHT_SECONDS,
        check=False,
    )


def _playdeck_lines(completed: subprocess.CompletedProcess[str]) -> list[str]:
    output = completed.stdout + completed.stderr
    return [line for line in output.splitlines() if line.startswith("Playdeck:")]


# --- unit level: the reporter's own Node tests ---------------------------------------------


@pytest.mark.node
def test_reporter_node_unit_tests_pass(node: str) -> None:
    completed = subprocess.run(
        [node, "--test", "test/"],
        cwd=REPORTER,
        env=_clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    assert "# fail 0" in completed.stdout


# --- end to end: real Playwright, real Playdeck --------------------------------------------

GITHUB_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_REF_NAME": "feature/reporter",
    "GITHUB_SHA": "c0ffee0000000000000000000000000000c0ffee",
    "GITHUB_ACTOR": "octocat",
    "GITHUB_RUN_NUMBER": "77",
    "GITHUB_SERVER_URL": "https://github.example",
    "GITHUB_REPOSITORY": "acme/shop",
    "GITHUB_RUN_ID": "4242",
}

EXPECTED_TESTS = {
    (file, title_path, project)
    for project in ("desktop", "mobile")
    for file, title_path in (
        ("checkout.spec.js", ("checkout", "cart", "shows the total")),
        ("checkout.spec.js", ("checkout", "cart", "applies the discount")),
        ("checkout.spec.js", ("checkout", "recovers on retry")),
        ("checkout.spec.js", ("checkout", "pays with a gift card")),
        ("plain.spec.js", ("adds numbers",)),
    )
}


def _results(db: Session, title: str) -> list[tuple[Test, Result]]:
    rows = db.execute(
        select(Test, Result)
        .join(Result, Result.test_id == Test.id)
        .where(Test.title == title)
        .order_by(Test.browser_project)
    ).all()
    return [(t, r) for t, r in rows]


def _attempts(db: Session, result: Result) -> list[Attempt]:
    query = select(Attempt).where(Attempt.result_id == result.id).order_by(Attempt.retry)
    return list(db.scalars(query))


def _attachments(db: Session, attempt: Attempt) -> dict[str, Attachment]:
    query = select(Attachment).where(Attachment.attempt_id == attempt.id)
    return {a.name: a for a in db.scalars(query)}


@pytest.mark.node
@pytest.mark.browser
def test_reporter_sends_the_whole_run_to_a_live_server(
    make_live_server: Callable[..., LiveServer],
    db: Session,
    playwright_env: dict[str, str],
    chromium: Path,
) -> None:
    del chromium
    server = make_live_server()
    env = {
        **playwright_env,
        **GITHUB_ENV,
        "PLAYDECK_SERVER_URL": server.url,
        "PLAYDECK_PROJECT": "shop-e2e",
        "PLAYDECK_E2E_RUN_NAME": "nightly e2e",
    }

    completed = _playwright(env)

    # The suite fails on purpose; the reporter leaves Playwright's verdict alone.
    assert completed.returncode == 1, completed.stdout[-4000:] + completed.stderr[-4000:]
    run = db.scalars(select(Run)).one()
    assert _playdeck_lines(completed) == [f"Playdeck: {server.url}/runs/{run.id}"]

    assert (run.total, run.passed, run.failed, run.flaky, run.skipped) == (10, 4, 2, 2, 2)
    assert run.status == "failed"
    assert run.source_format == "playwright-json"
    assert run.name == "nightly e2e"
    assert run.environment == "e2e"
    assert run.tags == ["nightly", "reporter-e2e"]
    assert (run.branch, run.commit_sha, run.ci_provider) == (
        "feature/reporter",
        GITHUB_ENV["GITHUB_SHA"],
        "github-actions",
    )
    assert run.ci_build_number == "77"
    assert run.ci_build_url == "https://github.example/acme/shop/actions/runs/4242"
    assert run.meta["playwright"]["projects"] == [
        {"name": "desktop", "retries": 1, "repeat_each": 1},
        {"name": "mobile", "retries": 1, "repeat_each": 1},
    ]
    assert "missing_attachments" not in run.meta

    # Full identity: file, describe path, title and Playwright project; two projects, two tests.
    stored = {(t.file, tuple(t.title_path), t.browser_project) for t in db.scalars(select(Test))}
    assert stored == EXPECTED_TESTS

    # The flaky test is one test per project, with both attempts.
    store = FilesystemBlobStore(server.settings.files_dir)
    for _test, result in _results(db, "recovers on retry"):
        assert (result.outcome, result.retry_count) == ("flaky", 1)
        attempts = _attempts(db, result)
        assert [(a.retry, a.status) for a in attempts] == [(0, "failed"), (1, "passed")]
        assert "fails unless this is a retry" in (attempts[0].error_message or "")
        # Only the failed attempt's attachments travel (uploadAttachments: 'failures'), though
        # both attempts attached a log.
        sent = _attachments(db, attempts[0])
        assert {"screenshot", "trace", "attempt-log"} <= set(sent)
        with store.open(sent["attempt-log"].sha256) as blob:
            assert blob.read() == b"attempt 0\n"
        assert _attachments(db, attempts[1]) == {}

    # The failure: error, stack, location, steps, and a screenshot and a trace per attempt.
    failures = _results(db, "applies the discount")
    assert [t.browser_project for t, _ in failures] == ["desktop", "mobile"]
    for _test, result in failures:
        assert result.outcome == "failed"
        assert "toHaveText" in (result.error_message or "")
        assert "checkout.spec.js:29" in (result.error_stack or "")
        assert result.location == "checkout.spec.js:26:5"
        attempts = _attempts(db, result)
        assert [(a.retry, a.status) for a in attempts] == [(0, "failed"), (1, "failed")]
        for attempt in attempts:
            assert attempt.extra["error_location"]["line"] == 29
            assert attempt.extra["error_location"]["file"].endswith("checkout.spec.js")
            step = next(s for s in attempt.steps if s["title"] == "check the discounted total")
            assert "toHaveText" in step["error"]
            files = _attachments(db, attempt)
            screenshot, trace = files["screenshot"], files["trace"]
            assert (screenshot.content_type, trace.content_type) == (
                "image/png",
                "application/zip",
            )
            assert store.exists(screenshot.sha256) and store.exists(trace.sha256)
            with store.open(screenshot.sha256) as blob:
                assert blob.read(8) == b"\x89PNG\r\n\x1a\n"
            with store.open(trace.sha256) as blob:
                assert blob.read(2) == b"PK"
            assert screenshot.size > 0 and trace.size > 0

    # Tags, annotations, captured output.
    for _test, result in _results(db, "shows the total"):
        assert result.outcome == "passed"
        assert result.tags == ["@smoke", "@cart"]
        assert {"type": "issue", "description": "https://example.invalid/issues/7"} in (
            result.annotations
        )
        [attempt] = _attempts(db, result)
        assert attempt.stdout == "opening the cart page\n"
        assert attempt.stderr == "cart warning on stderr\n"
        assert [s["title"] for s in attempt.steps][:2] == ["open the cart", "Set content"]
        assert _attachments(db, attempt) == {}
    for _test, result in _results(db, "pays with a gift card"):
        assert result.outcome == "skipped"
        assert {"type": "skip", "description": "gift cards are not sold yet"} in (
            result.annotations
        )


# --- a real API key against a real server with authentication on -------------------------

KEY_SERVER_SECRET = "reporter-key-secret-0123456789abcdefghijklm"


@pytest.mark.node
def test_a_real_api_key_authenticates_the_upload_to_an_auth_enabled_server(
    make_live_server: Callable[..., LiveServer],
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
    db: Session,
    playwright_env: dict[str, str],
) -> None:
    server = make_live_server(require_auth=True, secret_key=KEY_SERVER_SECRET)
    db.add(Project(name="shop", slug="shop"))
    db.commit()
    api_key = make_api_key(make_account("ci"), project="shop", scopes=["runs:write"])
    env = {
        **playwright_env,
        "PLAYDECK_SERVER_URL": server.url,
        "PLAYDECK_PROJECT": "shop",
        "PLAYDECK_API_KEY": api_key,
    }

    completed = _plain_run(env)

    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    run = db.scalars(select(Run)).one()
    assert _playdeck_lines(completed) == [f"Playdeck: {server.url}/runs/{run.id}"]
    assert api_key not in completed.stdout + completed.stderr
    assert db.get(Project, run.project_id).name == "shop"  # type: ignore[union-attr]
    [test] = db.scalars(select(Test)).all()
    assert (test.file, test.title, test.browser_project) == (
        "plain.spec.js",
        "adds numbers",
        "desktop",
    )
    assert run.passed == run.total == 1
    assert db.scalars(select(ApiKey.last_used_at)).one() is not None


# --- credentials and failures, against a recording stand-in ------------------------------


@dataclass
class StandIn:
    """Answers login and upload like Playdeck, and records what arrived."""

    base_url: str = ""
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    required_authorization: str | None = None
    logins: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[dict[str, Any]] = field(default_factory=list)

    async def login(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.logins.append(body)
        if body != {"username": "ci", "password": PASSWORD}:
            return JSONResponse(
                {"status": 401, "title": "Unauthorized", "detail": "Invalid username or password"},
                status_code=401,
                media_type="application/problem+json",
            )
        return JSONResponse({"token_type": "bearer", "access_token": self.token})

    async def upload(self, request: Request) -> JSONResponse:
        authorization = request.headers.get("authorization")
        async with request.form() as form:
            fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
            files: list[tuple[str, str, bytes]] = []
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files.append((name, value.filename or "", await value.read()))
        self.uploads.append({"authorization": authorization, "fields": fields, "files": files})
        if self.required_authorization and authorization != self.required_authorization:
            return JSONResponse(
                {"status": 401, "title": "Unauthorized", "detail": "Invalid or expired API key"},
                status_code=401,
                media_type="application/problem+json",
            )
        return JSONResponse(
            {"success": True, "testRunId": 1, "projectId": 1, "url": f"{self.base_url}/runs/1"},
            status_code=201,
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/auth/login", self.login, methods=["POST"]),
                Route("/api/test-runs/upload", self.upload, methods=["POST"]),
            ]
        )


@pytest.fixture
def stand_in(serve_app: Callable[[ASGIApp], str]) -> StandIn:
    server = StandIn()
    server.base_url = serve_app(server.app())
    return server


def _plain_run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """One browserless test in one project: enough to exercise the reporter, quickly."""
    return _playwright(env, "--grep", "@nobrowser", "--project", "desktop")


@pytest.mark.node
def test_api_key_travels_as_a_bearer_header_and_is_never_printed(
    stand_in: StandIn, playwright_env: dict[str, str]
) -> None:
    api_key = "pd_" + secrets.token_hex(32)
    env = {
        **playwright_env,
        "PLAYDECK_SERVER_URL": stand_in.base_url,
        "PLAYDECK_PROJECT": "shop",
        "PLAYDECK_API_KEY": api_key,
    }

    completed = _plain_run(env)

    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    assert _playdeck_lines(completed) == [f"Playdeck: {stand_in.base_url}/runs/1"]
    assert api_key not in completed.stdout + completed.stderr
    assert stand_in.logins == []
    [upload] = stand_in.uploads
    assert upload["authorization"] == f"Bearer {api_key}"
    assert upload["fields"]["projectName"] == "shop"
    assert upload["fields"]["environment"] == "e2e"
    assert upload["fields"]["tags"] == "nightly,reporter-e2e"
    [(part, filename, body)] = upload["files"]
    assert (part, filename) == ("file", "report.json")
    # What the reporter wrote is what the server's parser reads.
    record = parse_playwright_json(body)
    # The typed parser and the dict parser it replaced read the reporter's report alike.
    assert record == parse_playwright_json_dicts(orjson.loads(body))
    [test] = record.tests
    assert (test.file, test.title_path, test.browser_project) == (
        "plain.spec.js",
        ["adds numbers"],
        "desktop",
    )
    assert test.outcome == "passed"
    assert test.tags == ["@nobrowser"]
    assert test.attempts[0].stdout == "plain test output\n"
    assert api_key.encode() not in body


@pytest.mark.node
def test_username_and_password_log_in_then_upload_with_the_access_token(
    stand_in: StandIn, playwright_env: dict[str, str]
) -> None:
    env = {
        **playwright_env,
        "PLAYDECK_SERVER_URL": stand_in.base_url,
        "PLAYDECK_PROJECT": "shop",
        "PLAYDECK_USERNAME": "ci",
        "PLAYDECK_PASSWORD": PASSWORD,
    }

    completed = _plain_run(env)

    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    assert stand_in.logins == [{"username": "ci", "password": PASSWORD}]
    [upload] = stand_in.uploads
    assert upload["authorization"] == f"Bearer {stand_in.token}"
    assert PASSWORD not in completed.stdout + completed.stderr
    assert stand_in.token not in completed.stdout + completed.stderr


@pytest.mark.node
def test_refused_login_is_one_line_sends_nothing_and_keeps_the_exit_code(
    stand_in: StandIn, playwright_env: dict[str, str]
) -> None:
    env = {
        **playwright_env,
        "PLAYDECK_SERVER_URL": stand_in.base_url,
        "PLAYDECK_PROJECT": "shop",
        "PLAYDECK_USERNAME": "ci",
        "PLAYDECK_PASSWORD": "wrong password",
    }

    completed = _plain_run(env)

    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    assert _playdeck_lines(completed) == [
        "Playdeck: login failed: HTTP 401 Unauthorized: Invalid username or password"
    ]
    assert stand_in.uploads == []
    assert "wrong password" not in completed.stdout + completed.stderr


@pytest.mark.node
def test_refused_upload_is_one_line_and_keeps_the_exit_code(
    stand_in: StandIn, playwright_env: dict[str, str]
) -> None:
    stand_in.required_authorization = "Bearer pd_the_right_key"
    env = {
        **playwright_env,
        "PLAYDECK_SERVER_URL": stand_in.base_url,
        "PLAYDECK_PROJECT": "shop",
        "PLAYDECK_API_KEY": "pd_a_revoked_key",
    }

    completed = _plain_run(env)

    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-4000:]
    assert _playdeck_lines(completed) == [
        "Playdeck: upload failed: HTTP 401 Unauthorized: Invalid or expired API key"
    ]
    assert len(stand_in.uploads) == 1


@pytest.mark.node
def test_unreachable_server_keeps_the_exit_code_unless_strict(
    unused_port: int, playwright_env: dict[str, str]
) -> None:
    env = {
        **playwright_env,
        "PLAYDECK_SERVER_URL": f"http://127.0.0.1:{unused_port}",
        "PLAYDECK_PROJECT": "shop",
        # One retry keeps the test short; the retry is announced before the failure.
        "PLAYDECK_UPLOAD_RETRIES": "1",
    }

    lenient = _plain_run(env)
    strict = _plain_run({**env, "PLAYDECK_E2E_STRICT": "1"})

    assert lenient.returncode == 0, lenient.stdout[-4000:] + lenient.stderr[-4000:]
    [retry, line] = _playdeck_lines(lenient)
    assert retry.startswith("Playdeck: upload: attempt 1 of 2 failed (")
    assert "retrying in" in retry
    assert line.startswith("Playdeck: upload failed: ")
    assert "ECONNREFUSED" in line
    assert strict.returncode == 1
    assert _playdeck_lines(strict)[-1] == line


# --- one suite, every client: one identity per test ---------------------------------------

PHENX_FORMAT_REPORTER = ROOT / "scripts" / "fixtures" / "playwright" / "phenx-format-reporter.js"


def _run_tests(db: Session, run_id: int) -> dict[str, tuple[int, str]]:
    db.rollback()  # a fresh snapshot: the run was stored after this session's last read
    rows = db.execute(
        select(Test.key, Test.id, Result.outcome)
        .join(Result, Result.test_id == Test.id)
        .where(Result.run_id == run_id)
    ).all()
    return {key: (test_id, outcome) for key, test_id, outcome in rows}


@pytest.mark.node
@pytest.mark.browser
def test_one_run_sent_by_every_client_lands_on_one_identity_per_test(
    make_live_server: Callable[..., LiveServer],
    db: Session,
    playwright_env: dict[str, str],
    chromium: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One real run of the two-project suite, reported at once by Playdeck's reporter (live),
    the json, junit and blob reporters (sent by ``playdeck upload``) and the PhenX format's
    reporter (submitted): the same 10 tests, whichever way they came, except where the PhenX
    format cannot tell (no project, no describe path: docs/decisions.md)."""
    del chromium
    server = make_live_server()
    env = {
        **playwright_env,
        "PLAYDECK_SERVER_URL": server.url,
        "PLAYDECK_PROJECT": "shop",
        "PLAYWRIGHT_JSON_OUTPUT_FILE": str(tmp_path / "report.json"),
        "PLAYWRIGHT_JUNIT_OUTPUT_FILE": str(tmp_path / "junit.xml"),
        "PLAYWRIGHT_BLOB_OUTPUT_DIR": str(tmp_path / "blob-report"),
    }
    phenx_body = PROJECT / "phenx-submit.json"  # that reporter writes into the working folder
    phenx_body.unlink(missing_ok=True)
    try:
        completed = _playwright(
            env, f"--reporter=json,junit,blob,{REPORTER},{PHENX_FORMAT_REPORTER}"
        )
        shutil.move(phenx_body, tmp_path / "phenx-submit.json")
    finally:
        phenx_body.unlink(missing_ok=True)
    assert completed.returncode == 1, completed.stdout[-4000:] + completed.stderr[-4000:]
    live = db.scalars(select(Run)).one()

    monkeypatch.chdir(tmp_path)
    uploads = {}
    for name, paths in {
        "json": ["report.json", "test-results/"],
        "junit": ["junit.xml"],
        "blob": ["blob-report/"],
    }.items():
        result = CliRunner().invoke(
            app,
            ["upload", *paths, "--server", server.url, "--project", "shop"],
            env={"PLAYDECK_API_KEY": None, "PLAYDECK_USERNAME": None, "PLAYDECK_PASSWORD": None},
        )
        assert result.exit_code == 0, result.output
        assert "warning" not in result.stderr, result.stderr
        uploads[name] = int(result.stdout.strip().rsplit("/", 1)[1])
    body = orjson.loads((tmp_path / "phenx-submit.json").read_bytes())
    body["projectName"] = "shop"
    submitted = httpx.post(f"{server.url}/api/test-runs/submit", json=body, timeout=60)
    assert submitted.status_code == 201, submitted.text

    expected = _run_tests(db, live.id)
    assert len(expected) == 10
    for name, run_id in uploads.items():
        assert _run_tests(db, run_id) == expected, name
    phenx = _run_tests(db, submitted.json()["testRunId"])
    assert sorted(o for _, o in phenx.values()) == sorted(o for _, o in expected.values())


# --- quarantine: a quarantined test's failure leaves Playwright's exit code at 0 ---------------


@pytest.mark.node
def test_a_quarantined_failure_leaves_the_playwright_run_green_and_another_fails_it(
    make_live_server: Callable[..., LiveServer], db: Session, playwright_env: dict[str, str]
) -> None:
    server = make_live_server()
    env = {
        **playwright_env,
        "PLAYDECK_SERVER_URL": server.url,
        "PLAYDECK_PROJECT": "shop-quarantine",
        "PLAYDECK_E2E_QUARANTINE": "1",
    }
    args = ("tests/quarantine.spec.js", "--project", "desktop", "--retries", "0")

    first = _playwright(env, *args)
    assert first.returncode == 1, first.stdout[-3000:] + first.stderr[-3000:]
    (test_id,) = db.scalars(select(Test.id).where(Test.title == "payment sandbox answers")).all()
    db.rollback()
    response = httpx.put(
        f"{server.url}/api/tests/{test_id}/quarantine", json={"reason": "sandbox down, INC-42"}
    )
    assert response.status_code == 200, response.text

    green = _playwright(env, *args)
    assert green.returncode == 0, green.stdout[-3000:] + green.stderr[-3000:]
    assert (
        "Playdeck: only quarantined tests failed, the run passes: "
        "desktop › quarantine.spec.js › payment sandbox answers"
    ) in _playdeck_lines(green)
    # The failure is still recorded as one.
    runs = db.scalars(select(Run).order_by(Run.id)).all()
    db.rollback()
    assert [r.failed for r in runs] == [1, 1]

    red = _playwright({**env, "PLAYDECK_E2E_CART_BROKEN": "1"}, *args)
    assert red.returncode == 1, red.stdout[-3000:] + red.stderr[-3000:]
    assert any("quarantined failures (not counted)" in line for line in _playdeck_lines(red))

    off = _playwright({**env, "PLAYDECK_QUARANTINE": "off"}, *args)
    assert off.returncode == 1
