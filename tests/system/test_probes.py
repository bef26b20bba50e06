from __future__ import annotations

import logging
import os
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from playdeck.settings import Settings


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"
    body = client.get("/readyz").json()
    assert body["status"] == "ready"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "data_dir": "ok",
    }


def test_readiness_reports_redis_when_it_is_configured(
    make_settings: Callable[..., Settings],
    make_client: Callable[[Settings], TestClient],
    unused_port: int,
) -> None:
    client = make_client(make_settings(redis_url=f"redis://127.0.0.1:{unused_port}/0"))
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert (checks["database"]["status"], checks["redis"]["status"]) == ("ok", "failing")
    assert "redis" in response.json()["detail"]
    shared = os.environ.get("PLAYDECK_TEST_REDIS_URL")
    if shared:
        ok = make_client(make_settings(redis_url=shared)).get("/readyz")
        assert ok.json()["checks"]["redis"]["status"] == "ok"


def test_readiness_fails_when_the_database_is_unreachable(
    make_settings: Callable[..., Settings], make_client: Callable[[Settings], TestClient]
) -> None:
    settings = make_settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    client = make_client(settings)
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == "not_ready"
    assert response.json()["checks"]["database"]["status"] == "failing"
    assert response.json()["checks"]["data_dir"]["status"] == "ok"


def test_a_lost_database_is_a_503_to_retry_not_a_500(
    make_settings: Callable[..., Settings], make_client: Callable[[Settings], TestClient]
) -> None:
    settings = make_settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    client = make_client(settings)
    response = client.get("/api/projects")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    assert response.json()["code"] == "database_unavailable"
    page = client.get("/", headers={"Accept": "text/html"})
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "Temporarily unavailable" in page.text
    assert page.headers["retry-after"] == "5"


def test_unknown_route_is_a_json_problem(client: TestClient) -> None:
    response = client.get("/api/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_oversized_body_is_refused_before_it_is_read(
    make_settings: Callable[..., Settings], make_client: Callable[[Settings], TestClient]
) -> None:
    client = make_client(make_settings(max_upload_mb=1))
    response = client.post(
        "/api/projects",
        content=b"x" * (1024 * 1024 + 1),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_oversized_chunked_body_is_refused(
    make_settings: Callable[..., Settings], make_client: Callable[[Settings], TestClient]
) -> None:
    client = make_client(make_settings(max_upload_mb=1))

    def chunks() -> object:
        for _ in range(3):
            yield b"y" * (512 * 1024)

    response = client.post(
        "/api/test-runs/submit", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_postgresql_without_redis_is_warned_about_at_start_up(
    make_settings: Callable[..., Settings],
    make_client: Callable[[Settings], TestClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="playdeck"):
        make_client(make_settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none"))
    assert any("PLAYDECK_REDIS_URL is not set" in r.getMessage() for r in caplog.records)
    sqlite = make_settings()
    if not sqlite.effective_database_url.startswith("sqlite"):
        return  # the suite runs on PostgreSQL: there is no SQLite database to start on
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="playdeck"):
        make_client(sqlite)  # SQLite: one host, nothing to share
    assert not any("PLAYDECK_REDIS_URL" in r.getMessage() for r in caplog.records)
