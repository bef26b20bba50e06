"""The ``playdeck upload`` lines of the README and docs/clients.md, run as written against a
real server, in a working directory laid out the way each line expects; and what the command
says about attachments it cannot find."""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from playdeck.cli.main import app
from playdeck.models import Attachment, Run
from playdeck.models import Result as StoredResult
from tests.cli.test_upload_command import CLEAN_ENV, LiveServer

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data"
PLAYWRIGHT = DATA / "playwright"
BLOBS = DATA / "client-suite" / "blob"
EXAMPLE_SERVER = "http://127.0.0.1:8001"


def _example_lines() -> list[str]:
    lines = []
    for doc in (ROOT / "README.md", ROOT / "docs" / "clients.md"):
        for line in doc.read_text().splitlines():
            if line.startswith("playdeck upload ") and "PATH..." not in line:
                lines.append(line.split("  #")[0].strip())
    return lines


EXAMPLES = _example_lines()


def _lay_out(cwd: Path) -> None:
    """Every path the examples name, as Playwright and pytest leave them."""
    shutil.copy(PLAYWRIGHT / "report.json", cwd / "report.json")
    shutil.copytree(PLAYWRIGHT / "test-results", cwd / "test-results")
    (cwd / "playwright-report").mkdir()
    shutil.copy(PLAYWRIGHT / "report.json", cwd / "playwright-report" / "results.json")
    (cwd / "junit").mkdir()
    shutil.copy(DATA / "junit" / "pytest.xml", cwd / "junit" / "pytest.xml")
    shutil.copy(PLAYWRIGHT / "junit.xml", cwd / "junit" / "playwright.xml")
    (cwd / "all-blob-reports").mkdir()
    for index, shard in enumerate(sorted(BLOBS.glob("*.zip")), start=1):
        shutil.copy(shard, cwd / "all-blob-reports" / shard.name)
        shutil.copy(shard, cwd / f"blob-report-{index}.zip")


def _argv(line: str, cwd: Path, server: str) -> list[str]:
    """The line's arguments as a shell would pass them (variables, globs)."""
    expanded = line.replace("$BRANCH", "main").replace("$SHA", "0123abc")
    argv: list[str] = []
    for word in shlex.split(expanded)[2:]:
        if word == EXAMPLE_SERVER:
            word = server
        if any(c in word for c in "*?["):
            argv.extend(sorted(str(p.relative_to(cwd)) for p in cwd.glob(word)))
        else:
            argv.append(word)
    return argv


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    cwd = tmp_path / "ci"
    cwd.mkdir()
    _lay_out(cwd)
    monkeypatch.chdir(cwd)
    yield cwd


def _run(argv: list[str], server: str) -> Result:
    env = {**CLEAN_ENV, "PLAYDECK_SERVER_URL": server}
    return CliRunner().invoke(app, ["upload", *argv], env=env)


def test_the_docs_have_upload_examples() -> None:
    assert len(EXAMPLES) >= 5
    assert any("report.json test-results/" in line for line in EXAMPLES)


@pytest.mark.parametrize("line", EXAMPLES)
def test_upload_example_works_as_written(
    line: str, workdir: Path, live_server: LiveServer, db: Session
) -> None:
    result = _run(_argv(line, workdir, live_server.url), live_server.url)

    assert result.exit_code == 0, result.output
    run = db.scalars(select(Run)).one()
    assert result.stdout.strip() == f"{live_server.url}/runs/{run.id}"
    assert "warning" not in result.stderr, result.stderr
    if "junit" not in line:
        # Playwright runs: their attachment files travel with them.
        assert db.scalar(select(func.count()).select_from(Attachment))
        assert "missing_attachments" not in run.meta
    assert db.scalar(select(func.count()).select_from(StoredResult)) == run.total > 0


def test_report_without_its_folder_warns_of_every_missing_attachment(
    tmp_path: Path, live_server: LiveServer, db: Session
) -> None:
    shutil.copy(PLAYWRIGHT / "report.json", tmp_path / "report.json")

    result = _run([str(tmp_path / "report.json"), "--project", "web"], live_server.url)

    assert result.exit_code == 0, result.output
    warning = re.search(r"warning: (\d+) attachment file\(s\) the report points to", result.stderr)
    assert warning is not None, result.stderr
    assert int(warning[1]) > 0
    assert "test-failed-1.png" in result.stderr
    assert db.scalars(select(Run)).one().total == 26


def test_blob_shards_and_a_folder_of_them_make_the_same_run(
    workdir: Path, live_server: LiveServer, db: Session
) -> None:
    zips = _run(["blob-report-1.zip", "blob-report-2.zip", "--project", "a"], live_server.url)
    folder = _run(["all-blob-reports/", "--project", "b"], live_server.url)

    assert zips.exit_code == 0 and folder.exit_code == 0, zips.output + folder.output
    runs = db.scalars(select(Run).order_by(Run.id)).all()
    assert [(r.total, r.passed, r.failed, r.flaky, r.skipped) for r in runs] == [
        (10, 4, 2, 2, 2),
        (10, 4, 2, 2, 2),
    ]


def test_zips_with_other_paths_are_a_usage_error(workdir: Path) -> None:
    result = _run(["blob-report-1.zip", "report.json", "--project", "a"], "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert "zips are uploaded with other zips only" in result.stderr
