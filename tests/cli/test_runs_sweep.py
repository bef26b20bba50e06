"""``playdeck runs sweep``: the server's run sweep, once, by hand."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from playdeck.cli.main import app
from playdeck.kit.clock import utcnow
from playdeck.models import RunPart
from playdeck.settings import Settings


def test_the_sweep_closes_a_silent_live_part(
    client: TestClient,
    db: Session,
    settings: Settings,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened = client.post("/api/test-runs/live", json={"projectName": "p"}).json()
    silent_since = utcnow() - timedelta(seconds=settings.live_heartbeat_seconds + 60)
    db.execute(update(RunPart).values(last_seen_at=silent_since))
    db.commit()

    monkeypatch.chdir(tmp_path)
    env = {"PLAYDECK_DATABASE_URL": database_url, "PLAYDECK_DATA_DIR": str(settings.data_dir)}
    result = CliRunner().invoke(app, ["runs", "sweep"], env=env)

    assert result.exit_code == 0, result.output
    assert "live parts closed as interrupted: 1" in result.output
    run = client.get(f"/api/test-runs/{opened['testRunId']}").json()
    assert (run["status"], run["parts"][0]["state"]) == ("interrupted", "interrupted")
