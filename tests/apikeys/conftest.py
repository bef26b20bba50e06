"""Fixtures for API-key tests: an app with authentication on, users and keys made through the
real services (committed, as the CLI would), and helpers that speak HTTP the way clients do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from playdeck.models import Project, User
from playdeck.settings import Settings
from tests.fixtures.accounts import auth_overrides, insert_project

from .support import PASSWORD, SECRET


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        return make_settings(**auth_overrides(SECRET, **overrides))

    return factory


@pytest.fixture
def auth_client(
    make_client: Callable[[Settings], TestClient], auth_settings: Callable[..., Settings]
) -> TestClient:
    return make_client(auth_settings())


@pytest.fixture
def make_user(make_account: Callable[..., User]) -> Callable[..., User]:
    """A user, role ``user`` unless told (the root fixture defaults to a reporter account)."""

    def factory(username: str = "alice", *, role: str = "user", password: str = PASSWORD) -> User:
        return make_account(username, role=role, password=password)

    return factory


@pytest.fixture
def make_project(engine: Engine) -> Callable[[str], Project]:
    return lambda name: insert_project(engine, name)


@pytest.fixture
def make_key(make_api_key: Callable[..., str]) -> Callable[..., str]:
    """A key of ``owner`` made by the service the API uses; returns the plaintext."""
    return make_api_key
