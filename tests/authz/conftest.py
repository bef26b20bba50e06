"""Fixtures for the authorization tests: an auth-on app shared by a module (its rate limits
raised so hundreds of sign-ins fit), and the world of ``support.build_world``, built once per
module and put back before each test."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from playdeck.app import create_app
from playdeck.settings import Settings
from tests.fixtures.database import Rows, all_rows, empty_tables, restore_rows

from .support import SECRET, World, build_world

GENEROUS = "100000/minute"


def authz_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "require_auth": True,
        "secret_key": SECRET,
        "login_rate_limit": GENEROUS,
        "login_account_rate_limit": GENEROUS,
        "sensitive_rate_limit": GENEROUS,
        "not_found_rate_limit": GENEROUS,
        "ingest_in_worker_process": False,  # see tests/conftest.py
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="module")
def shared_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return authz_settings(database_url, tmp_path_factory.mktemp("authz") / "data")


@pytest.fixture(scope="module")
def shared_client(shared_settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """One auth-on app for the whole module (tables are still emptied after each test)."""
    with TestClient(create_app(shared_settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def api(shared_client: TestClient) -> TestClient:
    shared_client.cookies.clear()
    return shared_client


@pytest.fixture(scope="module")
def world_template(
    engine: Engine, shared_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, Rows, Path]]:
    """The world built once per module: its rows, and a copy of its stored files."""
    world = build_world(engine, shared_settings.files_dir)
    rows = all_rows(engine)
    files = tmp_path_factory.mktemp("authz-world") / "files"
    shutil.copytree(shared_settings.files_dir, files)
    empty_tables(engine)
    yield world, rows, files


@pytest.fixture
def world(
    engine: Engine,
    shared_settings: Settings,
    api: TestClient,
    world_template: tuple[World, Rows, Path],
) -> World:
    """The personas and projects, stored in the files directory every app of this module uses.

    Each test gets the world as ``build_world`` made it (the same rows, ids and files), put back
    from the module's template: building it by ingests for each of the matrix's ~760 tests
    took half of their time."""
    world, rows, files = world_template
    restore_rows(engine, rows)
    shutil.copytree(files, shared_settings.files_dir, dirs_exist_ok=True)
    return copy.deepcopy(world)


@pytest.fixture
def authz_client(
    database_url: str, shared_settings: Settings, make_client: Callable[[Settings], TestClient]
) -> Callable[..., TestClient]:
    """A fresh auth-on app with settings overridden (public read, project creation...), on the
    same database and files as the world."""

    def factory(**overrides: Any) -> TestClient:
        return make_client(authz_settings(database_url, shared_settings.data_dir, **overrides))

    return factory
