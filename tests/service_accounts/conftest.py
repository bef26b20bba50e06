"""Accounts and projects for the service-account tests, committed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from playdeck.models import Project, User
from playdeck.settings import Settings
from tests.fixtures.accounts import PASSWORD, create_account, insert_project


@pytest.fixture
def make_user(engine: Engine, make_settings: Callable[..., Settings]) -> Callable[..., User]:
    settings = make_settings()

    def factory(username: str = "alice", *, role: str = "user", email: str | None = None) -> User:
        return create_account(engine, settings, username, password=PASSWORD, role=role, email=email)

    return factory


@pytest.fixture
def make_project(engine: Engine) -> Callable[[str], Project]:
    return lambda name: insert_project(engine, name)
