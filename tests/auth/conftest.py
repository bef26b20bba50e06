"""Fixtures for authentication tests: an app with auth on, users made through the real service,
and small helpers that speak the HTTP API the way clients do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from playdeck.audit.service import Actor
from playdeck.models import User
from playdeck.settings import Settings
from playdeck.users import service as users_service

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
        with Session(engine, expire_on_commit=False) as session:
            user = users_service.create_user(
                session,
                settings=settings,
                username=username,
                password=password,
                email=email,
                display_name=name,
                role=role,
                actor=Actor.system("tests"),
                via="tests",
            )
            session.commit()
            return user

    return factory
