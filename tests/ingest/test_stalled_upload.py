"""A stalled upload holds no transaction and no pooled connection (real server, raw sockets).

One caller with a CI key starts uploads, sends part of each body and stalls. Before the fix
the request's transaction was open while the body was received: on SQLite the write lock
(admin sign-in and project creation failed after the busy timeout), on PostgreSQL a pooled
connection each (the pool ran dry and every request waited).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import Engine

from playdeck.models import User
from tests.fixtures.accounts import PASSWORD as ACCOUNT_PASSWORD
from tests.fixtures.servers import LiveServer

SECRET = "stalled-upload-secret-0123456789abcdefghijklmnop"
# More stalled uploads than PostgreSQL's default pool holds (5 + 10 overflow).
STALLED = 20
PATIENCE_SECONDS = 5.0


def _stall(url: str, path: str, key: str, stack: ExitStack) -> None:
    host, port = url.removeprefix("http://").split(":")
    sock = stack.enter_context(socket.create_connection((host, int(port)), timeout=5))
    boundary = "stall"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {key}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        "Content-Length: 1000000\r\n\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="r.json"\r\n'
        'Content-Type: application/json\r\n\r\n{"suites": ['
    )
    sock.sendall(head.encode())


@pytest.fixture
def stalled_server(
    make_live_server: Callable[..., LiveServer],
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
    engine: Engine,
) -> Iterator[tuple[LiveServer, int]]:
    make_account("boss", role="admin")
    key = make_api_key(make_account("ci", role="reporter"))
    server = make_live_server(require_auth=True, secret_key=SECRET)
    stalled = 1 if engine.dialect.name == "sqlite" else STALLED
    with ExitStack() as stack:
        for i in range(stalled):
            path = "/api/test-runs/upload" if i % 2 == 0 else "/api/test-runs/submit"
            _stall(server.url, f"{path}?projectName=stalled", key, stack)
        with httpx.Client(base_url=server.url, timeout=PATIENCE_SECONDS) as warmup:
            warmup.get("/healthz")  # the stalled requests' headers have been handled by now
        yield server, stalled


def test_a_stalled_upload_blocks_neither_sign_in_nor_project_creation(
    stalled_server: tuple[LiveServer, int],
) -> None:
    server, _ = stalled_server
    with httpx.Client(base_url=server.url, timeout=PATIENCE_SECONDS) as http:
        login = http.post(
            "/api/auth/login", json={"username": "boss", "password": ACCOUNT_PASSWORD}
        )
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        created = http.post("/api/projects", json={"name": "made meanwhile"}, headers=bearer)
        assert created.status_code == 201, created.text
        listed = http.get("/api/projects", headers=bearer)
        assert listed.status_code == 200
        assert [p["name"] for p in listed.json()["items"]] == ["made meanwhile"]
