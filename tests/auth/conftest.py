"""Fixtures for authentication tests: an app with auth on, users made through the real service,
and small helpers that speak the HTTP API the way clients do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from playdeck.models import User
from playdeck.settings import Settings
from tests.fixtures.accounts import auth_overrides, create_account

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
def make_user(engine: Engine, make_settings: Callable[..., Settings]) -> Callable[..., User]:
    """Create a user through the users service, committed, as the CLI would."""
    settings = make_settings()

    def factory(
        username: str = "alice",
        password: str = PASSWORD,
        *,
        role: str = "user",
        email: str | None = None,
        name: str | None = None,
    ) -> User:
        return create_account(
            engine,
            settings,
            username,
            password=password,
            role=role,
            email=email,
            display_name=name,
        )

    return factory
