"""Hostile input to the auth endpoints ends in a 4xx, never a 500, and never reaches the hasher."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from playdeck.models import User

from .support import PASSWORD, login

ENDPOINTS = ["/api/auth/login", "/auth/login", "/api/auth/setup", "/api/auth/refresh"]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\xfa not utf-8",
        b'{"username": "\xff\xfe", "password": "x"}',
        b"{not json",
        b"[]",
        b'"just a string"',
        b"",
        b'{"username": 5, "password": ["x"]}',
        b'{"username": "\\ud800", "password": "\\udfff"}',
    ],
)
def test_malformed_bodies_are_4xx(auth_client: TestClient, path: str, body: bytes) -> None:
    response = auth_client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text


def test_password_over_one_kib_is_refused_before_hashing(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    huge = "é" * 600  # 600 characters, 1200 bytes
    response = auth_client.post("/api/auth/login", json={"username": "alice", "password": huge})
    assert response.status_code == 422
    megabyte = auth_client.post(
        "/api/auth/login", json={"username": "alice", "password": "x" * 1_000_000}
    )
    assert megabyte.status_code == 422
    # Neither counted as a failed login: the account is not closer to a lock.
    for _ in range(4):
        auth_client.post("/api/auth/login", json={"username": "alice", "password": "wrong one"})
    ok = auth_client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert ok.status_code == 200


def test_oversized_login_name_is_422(auth_client: TestClient) -> None:
    response = auth_client.post(
        "/api/auth/login", json={"username": "u" * 10_000, "password": PASSWORD}
    )
    assert response.status_code == 422


def test_login_needs_a_name(auth_client: TestClient) -> None:
    response = auth_client.post("/api/auth/login", json={"password": PASSWORD})
    assert response.status_code == 422


def test_non_utf8_cookie_and_header_values_are_harmless(auth_client: TestClient) -> None:
    headers = [
        (b"cookie", b"playdeck_session=\xff\xfe"),
        (b"authorization", b"Bearer \xff\xfe\xfd"),
        (b"x-csrf-token", b"\xff"),
    ]
    for name, value in headers:
        response = auth_client.get("/api/projects", headers={name.decode(): value})
        assert response.status_code == 401


def test_null_bytes_and_control_characters_in_names_are_refused(
    make_client: Callable[..., TestClient], auth_settings: Callable[..., object]
) -> None:
    client = make_client(auth_settings(allow_registration=True))
    for username in ("ad\x00min", "new\nline", "tab\tname", "spa ce"):
        response = client.post("/api/auth/setup", json={"username": username, "password": PASSWORD})
        assert response.status_code == 422, username


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"csrf_token=%ff%fe&\xff\xfe=\xfa"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\ngarbage without headers"),
        ("multipart/form-data", b"no boundary at all"),
    ],
)
def test_garbled_form_bodies_on_cookie_requests_are_4xx(
    auth_client: TestClient, make_user: Callable[..., User], content_type: str, body: bytes
) -> None:
    make_user()
    login(auth_client)
    response = auth_client.post(
        "/api/auth/logout-all", content=body, headers={"Content-Type": content_type}
    )
    assert 400 <= response.status_code < 500, response.text
    assert auth_client.get("/api/auth/me").status_code == 200  # nothing was ended
