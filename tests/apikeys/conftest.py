"""Fixtures for API-key tests: users, projects and keys made through the real services
(committed, as the CLI would); the auth-on app is the root conftest's ``auth_client``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from playdeck.models import Project, User
from tests.fixtures.accounts import insert_project

from .support import PASSWORD


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
