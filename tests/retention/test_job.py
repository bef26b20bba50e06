"""The scheduled job inside the server, its one-at-a-time lock, and ``playdeck prune``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from playdeck.cli.main import app as cli
from playdeck.kit.clock import utcnow
from playdeck.migrations import migration_lock
from playdeck.models import AuditEvent, RetentionPolicy, Run
from playdeck.retention.lock import job_lock
from playdeck.retention.scheduler import run_once
from playdeck.settings import Settings
from playdeck.storage.filesystem import FilesystemBlobStore

from .support import on_disk, own_files, store_run

DEADLINE_SECONDS = 60


def _old_and_new(engine: Engine, files_dir: Path) -> tuple[int, int]:
    now = utcnow()
    old = store_run(
        engine,
        files_dir,
        project="Shop",
        branch="main",
        started_at=now - timedelta(days=40),
        tag="old",
    )
    new = store_run(engine, files_dir, project="Shop", branch="main", started_at=now, tag="new")
    return old, new


def _exists(engine: Engine, run_id: int) -> bool:
    with Session(engine) as session:
        return session.get(Run, run_id) is not None


def _pruned(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.pruned"))
        )


def test_the_server_applies_policies_on_its_schedule(
    make_live_server: Callable[..., Any], engine: Engine
) -> None:
    server = make_live_server(retention_interval_seconds=1)
    old, new = _old_and_new(engine, server.settings.files_dir)
    with httpx.Client(base_url=server.url) as http:
        assert http.put("/api/projects/shop/retention", json={"keep_days": 30}).status_code == 200
    # The round's audit event is written last: after the batch committed and its files went.
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not (events := _pruned(engine)) and time.monotonic() < deadline:
        time.sleep(0.2)
    (event,) = events
    assert not _exists(engine, old) and _exists(engine, new)
    assert not any(on_disk(server.settings.files_dir, s) for s in own_files("old"))
    assert event.actor_name == "retention" and event.details["deleted_runs"] == 1


def test_only_one_process_prunes_at_a_time(settings: Settings, engine: Engine) -> None:
    old, _new = _old_and_new(engine, settings.files_dir)
    with Session(engine) as session:
        session.add(RetentionPolicy(project_id=session.get_one(Run, old).project_id, keep_days=30))
        session.commit()
    store = FilesystemBlobStore(settings.files_dir)
    with job_lock(engine, settings.data_dir) as held:
        assert held
        with job_lock(engine, settings.data_dir) as second:
            assert not second  # another "process" asks while the first holds it
        assert run_once(engine, store, settings.data_dir, batch_size=10) is False
        assert _exists(engine, old)
    assert run_once(engine, store, settings.data_dir, batch_size=10) is True
    assert not _exists(engine, old)


@pytest.fixture
def run_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: Settings, database_url: str
) -> Callable[..., Result]:
    monkeypatch.chdir(tmp_path)
    env = {
        "PLAYDECK_DATABASE_URL": database_url,
        "PLAYDECK_DATA_DIR": str(settings.data_dir),
        "PLAYDECK_REQUIRE_AUTH": "false",
    }
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), env=env)


def test_playdeck_prune_dry_run_then_for_real(
    run_cli: Callable[..., Result],
    settings: Settings,
    engine: Engine,
    client: Any,
) -> None:
    old, new = _old_and_new(engine, settings.files_dir)
    assert client.put("/api/projects/shop/retention", json={"keep_days": 30}).status_code == 200

    dry = run_cli("prune", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Shop: would delete 1 runs" in dry.output and str(old) in dry.output
    assert _exists(engine, old)

    with job_lock(engine, settings.data_dir):
        busy = run_cli("prune")
    assert busy.exit_code == 1 and "another process is pruning" in busy.output
    assert _exists(engine, old)

    done = run_cli("prune")
    assert done.exit_code == 0, done.output
    assert "Shop: deleted 1 runs" in done.output
    assert not _exists(engine, old) and _exists(engine, new)
    assert not any(on_disk(settings.files_dir, s) for s in own_files("old"))
    with Session(engine) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "retention.pruned")
        ).one()
    assert event.actor_name is not None and event.actor_name.startswith("cli:")


def test_a_held_retention_lock_does_not_hold_up_migrations(
    settings: Settings, engine: Engine
) -> None:
    """A backup holds the retention lock while a restore migrates: the two locks are distinct
    (they once shared PostgreSQL's advisory key, and the migration waited for ever)."""
    migrated = threading.Event()

    def migrate() -> None:
        with migration_lock(engine):
            migrated.set()

    with job_lock(engine, settings.data_dir) as held:
        assert held
        worker = threading.Thread(target=migrate, daemon=True)
        worker.start()
        assert migrated.wait(timeout=60), "the migration lock waited on the retention lock"
        worker.join()
