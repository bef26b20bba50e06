"""Anti-automation: walking ids meets a 429 and a log line; rate-limit refusals are logged as
security events; the in-process counters of unknown login names have a size bound."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from playdeck.auth.rate_limit import BoundedMemoryStorage, RateLimits
from playdeck.models import User
from playdeck.settings import Settings

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "violet tangerine hovercraft"


@pytest.fixture
def client(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> TestClient:
    return make_client(
        make_settings(require_auth=True, secret_key=SECRET, not_found_rate_limit="120/minute")
    )


def test_walking_sequential_ids_meets_a_429_and_is_logged(
    client: TestClient, make_account: Callable[..., User], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="playdeck")
    make_account("alice", role="user", password=PASSWORD)
    login = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    client.cookies.clear()
    statuses = [
        client.get(f"/api/test-runs/{run_id}", headers=bearer).status_code
        for run_id in range(1, 201)
    ]
    assert statuses[:120] == [404] * 120
    assert set(statuses[120:]) == {429}
    refused = client.get("/api/test-runs/5000", headers=bearer)
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["code"] == "rate_limited"
    assert any("rate limit exceeded: not-found-ip" in r.getMessage() for r in caplog.records), [
        r.getMessage() for r in caplog.records
    ]
    # Pages and lists that exist are not affected.
    assert client.get("/api/projects", headers=bearer).status_code == 200


def test_a_login_rate_limit_refusal_is_logged(
    make_client: Callable[[Settings], TestClient],
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="playdeck")
    client = make_client(
        make_settings(require_auth=True, secret_key=SECRET, login_rate_limit="2/minute")
    )
    statuses = [
        client.post(
            "/api/auth/login", json={"username": f"nobody{i}", "password": "wrong guess"}
        ).status_code
        for i in range(3)
    ]
    assert statuses == [401, 401, 429]
    messages = [r.getMessage() for r in caplog.records if r.name == "playdeck.security"]
    assert any("rate limit exceeded: login-ip" in m for m in messages), messages
    assert not [m for m in messages if "nobody" in m or "wrong guess" in m]


def test_unknown_name_counters_in_memory_are_bounded(
    make_settings: Callable[..., Settings],
) -> None:
    storage = BoundedMemoryStorage(max_keys=100)
    limits = RateLimits(storage, make_settings(require_auth=True, secret_key=SECRET))
    for i in range(1000):
        limits.record_unknown_failure(f"made-up-{i}")
    assert storage.size() <= 100
    # What is kept still works: the newest name's counter counts on.
    for _ in range(4):
        limits.record_unknown_failure("made-up-999")
    assert limits.unknown_account_lock("made-up-999") is not None


def test_the_server_uses_the_bounded_storage(client: TestClient) -> None:
    limits: RateLimits = client.app.state.rate_limits  # type: ignore[attr-defined]
    assert isinstance(limits.storage, BoundedMemoryStorage)
