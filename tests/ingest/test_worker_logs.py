"""What an ingest worker process logs, as operators read it: under ``playdeck serve``, in the
server's format and level, with the request id the client received as ``X-Request-ID``."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from playdeck.app import create_app
from playdeck.settings import Settings

PLAYWRIGHT_JSON = Path(__file__).parents[1] / "data" / "playwright" / "report.json"


def test_workers_start_at_the_trace_log_level(database_url: str, tmp_path: Path) -> None:
    """``trace`` is uvicorn's level; a worker, which has no uvicorn, must know it too."""
    settings = Settings(
        _env_file=None,
        database_url=database_url,
        data_dir=tmp_path / "data",
        ingest_in_worker_process=True,
        log_level="trace",
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.post(
            "/api/test-runs/submit?projectName=worker-trace", content=PLAYWRIGHT_JSON.read_bytes()
        )
    assert response.status_code == 201, response.text
