"""``playdeck demo``: a fresh database filled through the real ingest, visible in the pages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from playdeck.cli.demo import DemoRefused, seed_demo
from playdeck.cli.main import app
from playdeck.kit.clock import utcnow
from playdeck.models import Attachment, Project, Report, Result, Run
from playdeck.settings import Settings
from playdeck.storage.filesystem import FilesystemBlobStore

from .conftest import get_page

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def test_demo_command_fills_a_fresh_database(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db: Session
) -> None:
    monkeypatch.setenv("PLAYDECK_DATABASE_URL", database_url)
    monkeypatch.setenv("PLAYDECK_DATA_DIR", str(tmp_path / "demo"))
    result = CliRunner().invoke(app, ["demo", "--runs", "9"])
    assert result.exit_code == 0, result.output
    assert "12 runs" in result.output
    names = set(db.scalars(select(Project.name)))
    assert names == {"Acme Storefront", "Billing API"}
    assert db.scalar(select(func.count()).select_from(Run)) == 12
    assert (db.scalar(select(func.count()).select_from(Attachment)) or 0) > 0
    assert list((tmp_path / "demo" / "files").rglob("*"))  # the blobs are on disk

    again = CliRunner().invoke(app, ["demo", "--runs", "9"])
    assert again.exit_code == 1
    assert "already has projects" in again.output
    assert db.scalar(select(func.count()).select_from(Run)) == 12


def test_demo_data_tells_the_stories_the_pages_show(
    db: Session, client: TestClient, settings: Settings
) -> None:
    now = utcnow()  # the flaky page's window ends at the real clock
    store = FilesystemBlobStore(settings.files_dir)  # the one the app serves from
    summary = seed_demo(db, store, runs=60, seed=3, now=now)
    db.commit()
    assert summary.runs == 80
    outcomes = set(db.scalars(select(Result.outcome).distinct()))
    assert {"passed", "failed", "flaky", "skipped"} <= outcomes
    branches = set(db.scalars(select(Run.branch).distinct()))
    assert "main" in branches and len(branches) > 1
    starts = list(db.scalars(select(Run.started_at)))
    assert all(s <= now for s in starts)
    assert db.scalar(select(func.count()).select_from(Report)) == 3  # an HTML report or three
    shot = db.scalars(select(Attachment).where(Attachment.content_type == "image/png")).first()
    assert shot is not None

    _response, page = get_page(client, "/")
    assert {"/projects/acme-storefront", "/projects/billing-api"} <= set(page.links())
    _response, page = get_page(client, "/projects/acme-storefront/flaky")
    assert "suggests while typing" in page.text
    image = client.get(f"/api/attachments/{shot.id}")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_demo_refuses_a_database_that_has_projects(
    db: Session, client: TestClient, tmp_path: Path
) -> None:
    assert (
        client.post("/projects", data={"name": "Real"}, follow_redirects=False).status_code == 303
    )
    with pytest.raises(DemoRefused):
        seed_demo(db, FilesystemBlobStore(tmp_path / "files"), runs=3, seed=1, now=NOW)


def test_the_same_seed_gives_the_same_data(engine: Engine, tmp_path: Path) -> None:
    seen = []
    for _attempt in range(2):
        with Session(engine) as session:
            seed_demo(session, FilesystemBlobStore(tmp_path / "f"), runs=5, seed=11, now=NOW)
            session.flush()
            seen.append(
                [
                    (r.branch, r.status, r.duration_ms, r.failed, r.flaky)
                    for r in session.scalars(select(Run).order_by(Run.started_at))
                ]
            )
            session.rollback()
    assert seen[0] == seen[1]
