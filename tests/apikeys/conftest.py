"""Fixtures for API-key tests: an app with authentication on, users and keys made through the
real services (committed, as the CLI would), and helpers that speak HTTP the way clients do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from playdeck.models import Project, User
from playdeck.settings import Settings

from .support import PASSWORD, SECRET


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {"require_auth": True, "secret_key": SECRET}
        values.update(overrides)
        return make_settings(**values)

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
    def factory(name: str) -> Project:
        with Session(engine, expire_on_commit=False) as session:
            project = Project(name=name, slug=name.lower())
            session.add(project)
            session.commit()
            return project

    return factory


@pytest.fixture
def make_key(make_api_key: Callable[..., str]) -> Callable[..., str]:
    """A key of ``owner`` made by the service the API uses; returns the plaintext."""
    return make_api_key
