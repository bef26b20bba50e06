"""``playdeck upload`` end to end: the real CLI against a real Playdeck server on a free port."""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Protocol
from xml.etree import ElementTree

import httpx
import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from playdeck.cli.main import app
from playdeck.models import Attachment, Project, Run
from playdeck.settings import Settings


class LiveServer(Protocol):
    """What the ``live_server`` fixture (tests/conftest.py) gives."""

    url: str
    settings: Settings


DATA = Path(__file__).parents[1] / "data"
PLAYWRIGHT = DATA / "playwright"
# Variables the command reads: cleared so the caller's environment cannot change a test.
CLEAN_ENV: dict[str, str | None] = {
    name: None
    for name in (
        "PLAYDECK_SERVER_URL",
        "PLAYDECK_PROJECT",
        "PLAYDECK_API_KEY",
        "PLAYDECK_USERNAME",
        "PLAYDECK_PASSWORD",
        "PLAYDECK_UPLOAD_RETRIES",
    )
}


def upload(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        app, ["upload", *(str(a) for a in args)], env={**CLEAN_ENV, **(env or {})}
    )


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def blob_path(server: LiveServer, sha: str) -> Path:
    return server.settings.files_dir / sha[:2] / sha[2:4] / sha


def report_attachments(report: dict[str, object]) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []

    def walk(suites: object) -> None:
        for suite in suites if isinstance(suites, list) else ():
            walk(suite.get("suites"))
            for spec in suite.get("specs", ()):
                for test in spec["tests"]:
                    for result in test["results"]:
                        found.extend(result.get("attachments", ()))

    walk(report["suites"])
    return found


def copy_playwright_output(destination: Path) -> Path:
    """The fixture run's output folder as a user has it: report.json beside test-results/."""
    destination.mkdir(parents=True)
    shutil.copy(PLAYWRIGHT / "report.json", destination / "report.json")
    shutil.copytree(PLAYWRIGHT / "test-results", destination / "test-results")
    return destination


def assert_stored_blobs(server: LiveServer, db: Session) -> set[str]:
    shas = set(db.scalars(select(Attachment.sha256)))
    for sha in shas:
        assert blob_path(server, sha).is_file(), sha
    return shas


def test_upload_playwright_json_report_prints_run_url(live_server: LiveServer, db: Session) -> None:
    result = upload(PLAYWRIGHT / "report.json", "--server", live_server.url, "--project", "web")

    assert result.exit_code == 0, result.output
    run = db.scalars(select(Run)).one()
    assert result.stdout.strip() == f"{live_server.url}/runs/{run.id}"
    assert db.get(Project, run.project_id).name == "web"  # type: ignore[union-attr]
    assert (run.total, run.failed, run.flaky, run.skipped) == (26, 2, 2, 4)


def test_upload_sends_run_fields_from_options(live_server: LiveServer, db: Session) -> None:
    result = upload(
        PLAYWRIGHT / "report.json",
        "--server",
        live_server.url + "/",
        "--project",
        "web",
        "--branch",
        "feature/login",
        "--commit",
        "0123abcd",
        "--build-url",
        "https://ci.example.test/build/7",
        "--environment",
        "staging",
        "--run-name",
        "nightly",
        "--tag",
        "smoke",
        "--tag",
        "eu, mobile",
    )

    assert result.exit_code == 0, result.output
    run = db.scalars(select(Run)).one()
    assert run.branch == "feature/login"
    assert run.commit_sha == "0123abcd"
    assert run.ci_build_url == "https://ci.example.test/build/7"
    assert run.environment == "staging"
    assert run.name == "nightly"
    assert {"smoke", "eu", "mobile"} <= set(run.tags)


def test_upload_server_and_project_from_environment(live_server: LiveServer, db: Session) -> None:
    result = upload(
        DATA / "junit" / "pytest.xml",
        env={"PLAYDECK_SERVER_URL": live_server.url, "PLAYDECK_PROJECT": "api"},
    )

    assert result.exit_code == 0, result.output
    run = db.scalars(select(Run)).one()
    assert db.get(Project, run.project_id).name == "api"  # type: ignore[union-attr]


def test_upload_several_junit_files_makes_one_run(live_server: LiveServer, db: Session) -> None:
    files = [DATA / "junit" / "pytest.xml", PLAYWRIGHT / "junit.xml"]
    testcases = sum(len(ElementTree.parse(f).getroot().findall(".//testcase")) for f in files)

    result = upload(*files, "--server", live_server.url, "--project", "mixed")

    assert result.exit_code == 0, result.output
    run = db.scalars(select(Run)).one()
    assert run.total == testcases


def test_upload_zip_stores_its_attachments(live_server: LiveServer, db: Session) -> None:
    result = upload(PLAYWRIGHT / "report.zip", "--server", live_server.url, "--project", "web")

    assert result.exit_code == 0, result.output
    run = db.scalars(select(Run)).one()
    report = orjson.loads((PLAYWRIGHT / "report.json").read_bytes())
    expected = len(report_attachments(report))
    assert db.scalar(select(func.count()).select_from(Attachment)) == expected
    assert "missing_attachments" not in run.meta
    assert_stored_blobs(live_server, db)


def test_upload_folder_packs_the_report_with_its_attachment_files(
    live_server: LiveServer, db: Session, tmp_path: Path
) -> None:
    folder = copy_playwright_output(tmp_path / "playwright-output")

    result = upload(folder, "--server", live_server.url, "--project", "web")

    assert result.exit_code == 0, result.output
    run = db.scalars(select(Run)).one()
    assert "missing_attachments" not in run.meta
    stored = assert_stored_blobs(live_server, db)
    on_disk = {sha256_of(p) for p in (folder / "test-results").rglob("*") if p.is_file()}
    assert on_disk <= stored
    report = orjson.loads((folder / "report.json").read_bytes())
    assert db.scalar(select(func.count()).select_from(Attachment)) == len(
        report_attachments(report)
    )
    # The folder itself is left as it was: the report is rewritten only inside the zip.
    assert (folder / "report.json").read_bytes() == (PLAYWRIGHT / "report.json").read_bytes()


def test_upload_folder_streams_a_large_attachment_intact(
    live_server: LiveServer, db: Session, tmp_path: Path
) -> None:
    folder = copy_playwright_output(tmp_path / "out")
    report = orjson.loads((folder / "report.json").read_bytes())
    screenshot = next(a for a in report_attachments(report) if a["name"] == "screenshot")
    big = folder / "test-results" / "video.webm"
    big.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    screenshot["path"] = str(big)
    (folder / "report.json").write_bytes(orjson.dumps(report))

    result = upload(folder, "--server", live_server.url, "--project", "web")

    assert result.exit_code == 0, result.output
    assert sha256_of(big) in assert_stored_blobs(live_server, db)


def test_upload_folder_leaves_out_files_outside_it(
    live_server: LiveServer, db: Session, tmp_path: Path
) -> None:
    secret = tmp_path / "credentials.txt"
    secret.write_text("TOPSECRET " + secrets.token_hex(8))
    folder = copy_playwright_output(tmp_path / "out")
    report = orjson.loads((folder / "report.json").read_bytes())
    attachment = next(a for a in report_attachments(report) if "path" in a)
    attachment["path"] = str(secret)
    (folder / "report.json").write_bytes(orjson.dumps(report))

    result = upload(folder, "--server", live_server.url, "--project", "web")

    assert result.exit_code == 0, result.output
    assert "1 outside" in result.stderr
    assert sha256_of(secret) not in assert_stored_blobs(live_server, db)


def test_upload_folder_without_report_is_a_usage_error(
    live_server: LiveServer, db: Session, tmp_path: Path
) -> None:
    (tmp_path / "notes.json").write_text('{"hello": "world"}')

    result = upload(tmp_path, "--server", live_server.url, "--project", "web")

    assert result.exit_code == 2
    assert "no Playwright JSON report found" in result.stderr
    assert db.scalar(select(func.count()).select_from(Run)) == 0


def test_upload_json_report_with_junit_files_is_a_usage_error(tmp_path: Path) -> None:
    folder = copy_playwright_output(tmp_path / "out")

    result = upload(
        folder, PLAYWRIGHT / "junit.xml", "--server", "http://127.0.0.1:9", "--project", "web"
    )

    assert result.exit_code == 2
    assert "one Playwright JSON report per upload" in result.stderr


def test_upload_refused_by_server_exits_with_its_detail(
    live_server: LiveServer, db: Session
) -> None:
    malformed = DATA / "junit" / "malformed.xml"
    direct = httpx.post(
        f"{live_server.url}/api/test-runs/upload",
        data={"projectName": "web"},
        files={"file": (malformed.name, malformed.read_bytes(), "application/xml")},
    )
    assert direct.is_client_error

    result = upload(malformed, "--server", live_server.url, "--project", "web")

    assert result.exit_code == 1
    assert result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith(f"playdeck: upload refused (HTTP {direct.status_code}):")
    assert " ".join(direct.json()["detail"].split())[:200] in line
    assert db.scalar(select(func.count()).select_from(Run)) == 0


def test_upload_over_the_size_limit_is_refused(
    make_live_server: Callable[..., LiveServer], db: Session, tmp_path: Path
) -> None:
    server = make_live_server(max_upload_mb=1)
    folder = copy_playwright_output(tmp_path / "out")
    (folder / "test-results" / "big.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    report = orjson.loads((folder / "report.json").read_bytes())
    next(a for a in report_attachments(report) if "path" in a)["path"] = "test-results/big.bin"
    (folder / "report.json").write_bytes(orjson.dumps(report))

    result = upload(folder, "--server", server.url, "--project", "web")

    assert result.exit_code == 1
    assert "upload refused (HTTP 413)" in result.stderr
    assert db.scalar(select(func.count()).select_from(Run)) == 0


def test_upload_to_unreachable_server_exits_with_one_line_reason(unused_port: int) -> None:
    server = f"http://127.0.0.1:{unused_port}"

    result = upload(
        PLAYWRIGHT / "report.json", "--server", server, "--project", "web", "--retries", "0"
    )

    assert result.exit_code == 1
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith(f"playdeck: cannot reach {server}:")


def test_upload_server_without_scheme_is_a_usage_error() -> None:
    result = upload(PLAYWRIGHT / "report.json", "--server", "localhost:8001", "--project", "web")

    assert result.exit_code == 2
    assert "http://" in result.stderr


def test_upload_refused_for_bad_api_key_never_prints_the_key(
    make_live_server: Callable[..., LiveServer], db: Session
) -> None:
    server = make_live_server(require_auth=True, secret_key=secrets.token_hex(32))
    key = "pd_" + secrets.token_hex(32)

    by_flag = upload(
        PLAYWRIGHT / "report.json", "--server", server.url, "--project", "web", "--api-key", key
    )
    by_env = upload(
        PLAYWRIGHT / "report.json",
        "--server",
        server.url,
        "--project",
        "web",
        env={"PLAYDECK_API_KEY": key},
    )
    help_text = upload("--help", env={"PLAYDECK_API_KEY": key})

    for result in (by_flag, by_env):
        assert result.exit_code == 1
        assert "upload refused (HTTP 401)" in result.stderr
        assert key not in result.output
    assert help_text.exit_code == 0
    assert "PLAYDECK_API_KEY" in help_text.stdout
    assert key not in help_text.output
    assert db.scalar(select(func.count()).select_from(Run)) == 0


def test_upload_rejects_api_key_with_password() -> None:
    result = upload(
        PLAYWRIGHT / "report.json",
        "--server",
        "http://127.0.0.1:9",
        "--project",
        "web",
        "--api-key",
        "pd_" + "0" * 64,
        "--username",
        "ci",
        "--password",
        "hunter2-but-longer",
    )

    assert result.exit_code == 2
    assert "either --api-key or --username/--password" in result.stderr
    assert "hunter2-but-longer" not in result.output


def test_upload_username_needs_password() -> None:
    result = upload(
        PLAYWRIGHT / "report.json",
        "--server",
        "http://127.0.0.1:9",
        "--project",
        "web",
        "--username",
        "ci",
    )

    assert result.exit_code == 2
    assert "--username and --password go together" in result.stderr
