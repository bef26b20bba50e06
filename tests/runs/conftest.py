"""Builders for runs: real ingests through ``playdeck.ingest.service.ingest_run``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from playdeck.settings import Settings
from playdeck.storage.filesystem import FilesystemBlobStore
from tests.fixtures.accounts import auth_overrides, create_account
from tests.fixtures.runs import ATTEMPTS_FOR, MakeRun, case, html_report, run_factory

# Re-exported: the tests of this directory import them from here.
__all__ = ["ATTEMPTS_FOR", "MakeRun", "case", "html_report"]


@pytest.fixture
def store(settings: Settings) -> FilesystemBlobStore:
    """The blob store the ``client`` app uses (same files directory)."""
    return FilesystemBlobStore(settings.files_dir)


@pytest.fixture
def make_run(engine: Engine, store: FilesystemBlobStore) -> MakeRun:
    """Ingest a run the way the submit endpoint does; returns the run id.

    ``started_at`` may be a datetime or a number of hours ago (default: now).
    """
    return run_factory(engine, store)


SECRET = "runs-tests-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "amber lighthouse marmalade"


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        return make_settings(**auth_overrides(SECRET, **overrides))

    return factory


@pytest.fixture
def signed_in(
    engine: Engine,
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
) -> Callable[..., TestClient]:
    """A client of an auth-on app, signed in (bearer token) as a new account of ``role``.

    Accounts are made through the users service and signed in through ``/api/auth/login``.
    """

    def factory(username: str, *, role: str = "user", **overrides: Any) -> TestClient:
        settings = auth_settings(**overrides)
        create_account(engine, settings, username, password=PASSWORD, role=role)
        client = make_client(settings)
        login = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert login.status_code == 200, login.text
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        return client

    return factory


@pytest.fixture
def outsider(signed_in: Callable[..., TestClient]) -> TestClient:
    """Signed in as a plain user who is a member of no project."""
    return signed_in("outsider")
