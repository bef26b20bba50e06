"""Fixtures for authentication tests: users made through the real service (the auth-on app is
the root conftest's ``auth_client``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from playdeck.models import User
from playdeck.settings import Settings
from tests.fixtures.accounts import create_account

from .support import PASSWORD


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
