"""The first account of an empty instance needs the setup token from the server log, unless the
request comes from the server's own machine (and not through a proxy)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.app import create_app
from playdeck.models import User
from playdeck.settings import Settings

from .serving import playdeck_serve

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "violet tangerine hovercraft"
REMOTE = ("203.0.113.7", 40000)
SETUP = {"username": "admin", "password": PASSWORD}
TOKEN_IN_LOG = re.compile(r"setup token \(form field or X-Setup-Token header\): (\S+)")


@pytest.fixture
def remote(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture, engine: Any
) -> Iterator[Callable[..., tuple[TestClient, str]]]:
    """A client on another machine, and the token the server logged at start."""
    caplog.set_level(logging.WARNING, logger="playdeck")
    clients: list[TestClient] = []

    def factory(**overrides: Any) -> tuple[TestClient, str]:
        settings = make_settings(require_auth=True, secret_key=SECRET, **overrides)
        client = TestClient(create_app(settings), client=REMOTE, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        logged = [TOKEN_IN_LOG.search(r.getMessage()) for r in caplog.records]
        tokens = [m.group(1) for m in logged if m]
        assert tokens, "the server did not log a setup token"
        return client, tokens[-1]

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


def test_remote_setup_needs_the_token_from_the_log(
    remote: Callable[..., tuple[TestClient, str]], db: Session
) -> None:
    client, token = remote()
    refused = client.post("/api/auth/setup", json=SETUP)
    assert refused.status_code == 403
    assert refused.json()["code"] == "setup_token_required"
    wrong = client.post("/api/auth/setup", json=SETUP, headers={"X-Setup-Token": "guess"})
    assert wrong.status_code == 403
    assert db.scalars(select(User)).all() == []
    done = client.post("/api/auth/setup", json=SETUP, headers={"X-Setup-Token": token})
    assert done.status_code == 201
    # Afterwards the token opens nothing: setup is complete.
    again = client.post("/api/auth/setup", json=SETUP, headers={"X-Setup-Token": token})
    assert again.status_code == 409


def test_the_first_registrant_needs_the_token_later_ones_do_not(
    remote: Callable[..., tuple[TestClient, str]],
) -> None:
    client, token = remote(allow_registration=True)
    first = {"email": "first@example.com", "password": PASSWORD}
    refused = client.post("/api/auth/register", json=first)
    assert refused.status_code == 403
    assert refused.json()["code"] == "setup_token_required"
    created = client.post("/api/auth/register", json=first, headers={"X-Setup-Token": token})
    assert created.status_code == 201
    assert created.json()["role"] == "admin"
    second = client.post(
        "/api/auth/register", json={"email": "second@example.com", "password": PASSWORD}
    )
    assert second.status_code == 201
    assert second.json()["role"] == "user"


def test_the_setup_form_asks_for_the_token_remotely(
    remote: Callable[..., tuple[TestClient, str]],
) -> None:
    client, token = remote()
    page = client.get("/setup", headers={"Accept": "text/html"})
    assert 'name="setup_token"' in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    form = {
        "csrf_token": csrf.group(1),
        "username": "admin",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    html = {"Accept": "text/html"}
    refused = client.post("/setup", data=form, headers=html, follow_redirects=False)
    assert refused.status_code == 403
    assert "setup token" in refused.text
    done = client.post(
        "/setup", data={**form, "setup_token": token}, headers=html, follow_redirects=False
    )
    assert done.status_code == 303


def test_local_setup_needs_no_token_but_a_proxied_one_does(
    make_live_server: Callable[..., Any], db: Session
) -> None:
    server = make_live_server(require_auth=True, secret_key=SECRET)
    with httpx.Client(base_url=server.url) as http:
        page = http.get("/setup", headers={"Accept": "text/html"})
        assert 'name="setup_token"' not in page.text  # the server's own machine
        proxied = http.post(
            "/api/auth/setup", json=SETUP, headers={"X-Forwarded-For": "198.51.100.9"}
        )
        assert proxied.status_code == 403  # a proxy on this machine relays strangers
        assert http.post("/api/auth/setup", json=SETUP).status_code == 201
    assert db.scalars(select(User.username)).all() == ["admin"]


def test_playdeck_serve_prints_the_token_that_opens_setup(
    tmp_path: Path, database_url: str, db: Session
) -> None:
    env = {
        "PLAYDECK_DATABASE_URL": database_url,
        "PLAYDECK_DATA_DIR": str(tmp_path / "data"),
        "PLAYDECK_REQUIRE_AUTH": "true",
        "PLAYDECK_SECRET_KEY": SECRET,
    }
    with playdeck_serve(tmp_path, env) as served:
        found = TOKEN_IN_LOG.search(served.log.read_text())
        assert found is not None, served.log.read_text()
        relayed = {"X-Forwarded-For": "198.51.100.9"}  # as through a proxy: not local
        with httpx.Client(base_url=served.url) as http:
            assert http.post("/api/auth/setup", json=SETUP, headers=relayed).status_code == 403
            done = http.post(
                "/api/auth/setup",
                json=SETUP,
                headers={**relayed, "X-Setup-Token": found.group(1)},
            )
            assert done.status_code == 201, done.text
    assert db.scalars(select(User.username)).all() == ["admin"]


def test_every_instance_accepts_the_token_another_one_printed(
    tmp_path: Path, database_url: str, db: Session
) -> None:
    """Several processes behind one proxy: the token is the instance's (derived from the shared
    secret), so whichever process the proxy picks accepts the token any of them printed."""
    env = {
        "PLAYDECK_DATABASE_URL": database_url,
        "PLAYDECK_DATA_DIR": str(tmp_path / "data"),
        "PLAYDECK_REQUIRE_AUTH": "true",
        "PLAYDECK_SECRET_KEY": SECRET,
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with playdeck_serve(tmp_path / "a", env) as first, playdeck_serve(tmp_path / "b", env) as other:
        printed = TOKEN_IN_LOG.search(first.log.read_text())
        assert printed is not None, first.log.read_text()
        relayed = {"X-Forwarded-For": "198.51.100.9", "X-Setup-Token": printed.group(1)}
        with httpx.Client(base_url=other.url) as http:
            done = http.post("/api/auth/setup", json=SETUP, headers=relayed)
            assert done.status_code == 201, done.text
    assert db.scalars(select(User.username)).all() == ["admin"]


def test_the_token_follows_the_secret(make_settings: Callable[..., Settings]) -> None:
    """Another secret makes another token; a token is not the secret itself, nor guessable."""
    tokens = {
        create_app(make_settings(require_auth=True, secret_key=secret)).state.setup_token.value
        for secret in (SECRET, SECRET + "-rotated")
    }
    assert len(tokens) == 2
    assert all(len(token) >= 32 and SECRET not in token for token in tokens)
