"""``playdeck serve`` as a real process: its log lines, and ``--workers N``."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from prometheus_client.parser import text_string_to_metric_families

from playdeck.db import make_engine
from playdeck.migrations import alembic_config

from .processes import clean_env, playdeck_serve, run_playdeck

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
ADMIN_PASSWORD = "violet tangerine hovercraft"
METRICS_TOKEN = "metrics-token-0123456789"
DATA = Path(__file__).parents[1] / "data"
HEAD = ScriptDirectory.from_config(alembic_config(make_engine("sqlite://"))).get_current_head()
MIGRATED = f"database migrated from revision (empty database) to {HEAD}"


def requests_counted(url: str, route: str, **headers: str) -> float:
    text = httpx.get(f"{url}/metrics", headers=headers, timeout=10).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "playdeck_http_requests_total" and sample.labels["route"] == route
    )


def test_json_logs_show_playdecks_own_events_without_secrets(workdir: Path) -> None:
    env = clean_env(
        PLAYDECK_DATA_DIR=str(workdir / "data"),
        PLAYDECK_LOG_FORMAT="json",
        PLAYDECK_REQUIRE_AUTH="true",
        PLAYDECK_SECRET_KEY=SECRET,
        PLAYDECK_ADMIN_USERNAME="boss",
        PLAYDECK_ADMIN_PASSWORD=ADMIN_PASSWORD,
        PLAYDECK_METRICS_TOKEN=METRICS_TOKEN,
        PLAYDECK_DATABASE_URL=f"sqlite:///{workdir / 'data' / 'pd.db'}",
    )
    with playdeck_serve(env=env, workdir=workdir) as server:
        response = httpx.get(f"{server.url}/api/projects")
        assert response.status_code == 401
    lines = [json.loads(line) for line in server.log().splitlines()]  # every line is JSON

    by_message = {entry["message"]: entry for entry in lines}
    assert MIGRATED in by_message
    assert "created administrator 'boss' from the PLAYDECK_ADMIN_* settings" in by_message
    [start] = [e for e in lines if e["message"].startswith("starting Playdeck on 127.0.0.1")]
    assert start["logger"] == "playdeck.startup"
    assert start["config"]["require_auth"] is True
    assert start["config"]["secret_key"] == "(set)"
    assert start["config"]["admin_password"] == "(set)"
    assert start["config"]["database_url"] == f"sqlite:///{workdir / 'data' / 'pd.db'}"
    [access] = [e for e in lines if e["logger"] == "playdeck.access"]
    assert access["request_id"] == response.headers["X-Request-ID"]
    assert (access["method"], access["route"], access["status"]) == ("GET", "/api/projects", 401)
    log = server.log()
    for secret in (SECRET, ADMIN_PASSWORD, METRICS_TOKEN):
        assert secret not in log


def test_text_logs_carry_the_request_id(workdir: Path) -> None:
    env = clean_env(PLAYDECK_DATA_DIR=str(workdir / "data"))
    with playdeck_serve(env=env, workdir=workdir) as server:
        response = httpx.get(f"{server.url}/api/projects")
    request_id = response.headers["X-Request-ID"]
    [line] = [line for line in server.log().splitlines() if request_id in line]
    assert re.search(rf"INFO +playdeck\.access \[{request_id}\] GET /api/projects 200 ", line)
    assert MIGRATED in server.log()


def test_workers_share_one_migration_and_one_set_of_metrics(workdir: Path) -> None:
    redis_url = os.environ.get("PLAYDECK_TEST_REDIS_URL")
    settings = {"PLAYDECK_REDIS_URL": redis_url} if redis_url else {}
    env = clean_env(PLAYDECK_DATA_DIR=str(workdir / "data"), **settings)
    with playdeck_serve("--workers", "2", env=env, workdir=workdir) as server:
        body = (DATA / "playwright" / "report.json").read_bytes()
        for _ in range(3):
            submitted = httpx.post(
                f"{server.url}/api/test-runs/submit?projectName=workers",
                content=body,
                headers={"Content-Type": "application/json"},
            )
            assert submitted.status_code == 201, submitted.text
        for _ in range(20):  # a new connection each time: the kernel spreads them over workers
            assert httpx.get(f"{server.url}/api/projects").status_code == 200
        # Whichever worker answers the scrape, it reports every worker's requests.
        counts = {requests_counted(server.url, "/api/projects") for _ in range(6)}
        assert counts == {20.0}
        runs = httpx.get(f"{server.url}/api/test-runs?project=workers").json()["items"]
        assert len(runs) == 3
    log = server.log()
    workers = set(re.findall(r"Started server process \[(\d+)\]", log))
    assert len(workers) == 2
    assert log.count(MIGRATED) == 1
    assert log.count("Running upgrade  -> 0001") == 1
    assert "with 2 workers" in log
    if not redis_url:
        assert "rate limits are counted per worker" in log


@pytest.mark.parametrize("workers", ["0", "-1"])
def test_workers_must_be_positive(workdir: Path, workers: str) -> None:
    result = run_playdeck("serve", "--workers", workers, env=clean_env(), cwd=workdir)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
