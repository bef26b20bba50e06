"""Rate limits: 429 with Retry-After, checked before any hashing, shared through Redis."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from playdeck.app import create_app
from playdeck.kit.clock import utcnow
from playdeck.models import AuditEvent, User
from playdeck.settings import Settings
from tests.fixtures.redis_server import redis_url, unique_address

from .support import PASSWORD, login

PROXY = ("10.0.0.1", 50000)


@pytest.fixture
def behind_proxy(
    auth_settings: Callable[..., Settings], engine: Engine
) -> Iterator[Callable[..., TestClient]]:
    """Clients whose TCP peer is a reverse proxy at 10.0.0.1."""
    clients: list[TestClient] = []

    def factory(**overrides: object) -> TestClient:
        client = TestClient(create_app(auth_settings(**overrides)), client=PROXY)
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


def _login(client: TestClient, username: str, password: str = "wrong guess", **headers: str) -> int:
    response = client.post(
        "/api/auth/login", json={"username": username, "password": password}, headers=headers
    )
    return int(response.status_code)


def test_login_rate_limit_per_ip_answers_429_with_retry_after(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    client = make_client(auth_settings(login_rate_limit="3/minute"))
    make_user()
    with time_machine.travel(utcnow(), tick=False) as clock:
        for name in ("a", "b", "c"):
            assert _login(client, name) == 401
        limited = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        assert limited.status_code == 429
        assert limited.json()["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        clock.shift(timedelta(seconds=61))
        assert login(client).response.status_code == 200


def test_rate_limit_is_checked_before_any_password_work(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
    db: Session,
) -> None:
    """A limited attempt leaves no trace: no hash verified, no failure counted, nothing audited."""
    client = make_client(auth_settings(login_account_rate_limit="2/minute"))
    user = make_user()
    assert _login(client, "alice") == 401
    assert _login(client, "alice") == 401
    for _ in range(5):
        assert _login(client, "alice") == 429
    stored = db.get(User, user.id)
    assert stored is not None
    assert stored.failed_login_attempts == 2
    assert stored.locked_until is None
    failures = select(func.count()).where(AuditEvent.action == "login.failed")
    assert db.scalar(failures) == 2


def test_per_account_limit_spans_client_addresses(
    behind_proxy: Callable[..., TestClient], make_user: Callable[..., User]
) -> None:
    client = behind_proxy(login_account_rate_limit="2/minute", trusted_proxies=["10.0.0.0/8"])
    make_user()
    assert _login(client, "alice", **{"X-Forwarded-For": "203.0.113.1"}) == 401
    assert _login(client, "alice", **{"X-Forwarded-For": "203.0.113.2"}) == 401
    assert _login(client, "alice", **{"X-Forwarded-For": "203.0.113.3"}) == 429


def test_register_is_limited_per_ip(
    make_client: Callable[[Settings], TestClient], auth_settings: Callable[..., Settings]
) -> None:
    client = make_client(auth_settings(allow_registration=True, register_rate_limit="2/hour"))
    for index in range(2):
        body = {"email": f"user{index}@example.com", "password": PASSWORD}
        assert client.post("/api/auth/register", json=body).status_code == 201
    refused = client.post(
        "/api/auth/register", json={"email": "x@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 60


def test_register_is_limited_per_email_across_client_addresses(
    behind_proxy: Callable[..., TestClient], make_user: Callable[..., User]
) -> None:
    client = behind_proxy(
        allow_registration=True, register_rate_limit="2/hour", trusted_proxies=["10.0.0.0/8"]
    )
    make_user()  # past setup: registration is open to anyone

    def register(email: str, address: str) -> int:
        body = {"email": email, "password": PASSWORD}
        headers = {"X-Forwarded-For": address}
        response = client.post("/api/auth/register", json=body, headers=headers)
        status: int = response.status_code
        return status

    assert register("target@example.com", "203.0.113.1") == 201
    assert register("target@example.com", "203.0.113.2") != 429
    assert register("target@example.com", "203.0.113.3") == 429
    assert register("other@example.com", "203.0.113.4") == 201


def test_refresh_is_rate_limited(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
) -> None:
    client = make_client(auth_settings(sensitive_rate_limit="2/minute"))
    for _ in range(2):
        assert client.post("/api/auth/refresh", json={"refresh_token": "pdr_x"}).status_code == 401
    assert client.post("/api/auth/refresh", json={"refresh_token": "pdr_x"}).status_code == 429


def test_forwarded_for_is_ignored_from_untrusted_peers(
    behind_proxy: Callable[..., TestClient],
) -> None:
    """Without trusted proxies, rotating X-Forwarded-For does not buy fresh limits."""
    client = behind_proxy(login_rate_limit="2/minute")
    assert _login(client, "a", **{"X-Forwarded-For": "198.51.100.1"}) == 401
    assert _login(client, "b", **{"X-Forwarded-For": "198.51.100.2"}) == 401
    assert _login(client, "c", **{"X-Forwarded-For": "198.51.100.3"}) == 429


def test_forwarded_for_from_a_trusted_proxy_names_the_client(
    behind_proxy: Callable[..., TestClient], db: Session
) -> None:
    client = behind_proxy(login_rate_limit="1/minute", trusted_proxies=["10.0.0.0/8"])
    # The proxy appends the address it saw; a client-supplied left-most entry is not believed.
    assert _login(client, "a", **{"X-Forwarded-For": "192.0.2.99, 198.51.100.7"}) == 401
    assert _login(client, "b", **{"X-Forwarded-For": "192.0.2.99, 198.51.100.8"}) == 401
    assert _login(client, "c", **{"X-Forwarded-For": "192.0.2.99, 198.51.100.8"}) == 429
    assert db.scalars(select(AuditEvent.ip).order_by(AuditEvent.id)).all() == [
        "198.51.100.7",
        "198.51.100.8",
    ]


def test_forwarded_proto_from_a_trusted_proxy_marks_the_cookie_secure(
    behind_proxy: Callable[..., TestClient], make_user: Callable[..., User]
) -> None:
    client = behind_proxy(trusted_proxies=["10.0.0.1"])
    make_user()
    response = client.post(
        "/api/auth/login",
        json={"username": "alice", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1"},
    )
    assert "Secure" in response.headers["set-cookie"]
    untrusted = behind_proxy()
    response = untrusted.post(
        "/api/auth/login",
        json={"username": "alice", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "Secure" not in response.headers["set-cookie"]


def test_redis_storage_shares_counters_between_processes(
    make_client: Callable[..., TestClient],
    auth_settings: Callable[..., Settings],
) -> None:
    settings = auth_settings(redis_url=redis_url(), login_account_rate_limit="2/minute")
    address = unique_address()  # the per-IP counter is this test's alone
    first, second = (make_client(settings, client=address) for _ in range(2))  # two app instances
    name = f"shared-{secrets.token_hex(6)}"
    assert _login(first, name) == 401
    assert _login(second, name) == 401
    assert _login(first, name) == 429
    assert _login(second, name) == 429


def test_unreachable_redis_fails_closed(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    unused_port: int,
) -> None:
    client = make_client(auth_settings(redis_url=f"redis://127.0.0.1:{unused_port}/0"))
    response = client.post("/api/auth/login", json={"username": "a", "password": "b"})
    assert response.status_code == 503
    assert response.json()["code"] == "rate_limit_unavailable"
