"""The suite's own machinery (tests/fixtures/): cheap hashing stays in the suite, each xdist
worker has a database of its own, emptying the database restarts its ids, and a reused app
serves with a new instance."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url

from playdeck.auth.passwords import ARGON2_PARAMETERS, argon2_parameters, hash_password
from playdeck.settings import Settings
from tests.fixtures.accounts import insert_project
from tests.fixtures.apps import AppPool
from tests.fixtures.database import all_rows, empty_tables, restore_rows
from tests.fixtures.passwords import CHEAP_ARGON2


def test_the_suite_hashes_with_cheap_argon2id_parameters() -> None:
    assert argon2_parameters() == CHEAP_ARGON2 != ARGON2_PARAMETERS
    assert hash_password("violet tangerine hovercraft").startswith("$argon2id$v=19$m=8,t=1,p=1$")


@pytest.mark.usefixtures("production_password_hashing")
def test_production_parameters_can_be_asked_for() -> None:
    assert argon2_parameters() == ARGON2_PARAMETERS


def test_each_worker_has_a_database_of_its_own(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    url = make_url(database_url)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    if url.get_backend_name() == "postgresql":
        assert url.database is not None and url.database.startswith(f"playdeck_test_{worker}_")
    else:
        assert url.database is not None
        # xdist gives each worker a base directory of its own (…/popen-gw0, …/popen-gw1).
        assert Path(url.database).is_relative_to(tmp_path_factory.getbasetemp())


def test_emptying_the_database_restarts_ids(engine: Engine) -> None:
    insert_project(engine, "First")
    insert_project(engine, "Second")
    empty_tables(engine)
    assert insert_project(engine, "Again").id == 1


def test_restored_rows_are_the_rows_read_and_new_ids_follow_them(engine: Engine) -> None:
    insert_project(engine, "First")
    second = insert_project(engine, "Second")
    rows = all_rows(engine)
    empty_tables(engine)
    restore_rows(engine, rows)
    assert all_rows(engine) == rows
    assert insert_project(engine, "Third").id == second.id + 1


def test_a_reused_app_serves_with_a_new_instance_on_the_new_data_directory(
    make_settings: Callable[..., Settings],
    auth_settings: Callable[..., Settings],
    tmp_path: Path,
) -> None:
    pool = AppPool()
    first = pool.take(make_settings())
    with TestClient(first.app):
        old_state = first.app.state
    pool.give_back(first)
    other = make_settings(data_dir=tmp_path / "other")
    second = pool.take(other)
    assert second.app is first.app
    new_state = second.app.state
    assert new_state.settings is other and new_state.blob_store.root == other.files_dir.resolve()
    for part in ("engine", "rate_limits", "setup_token", "sso_clients", "ingest_pool"):
        assert getattr(new_state, part) is not getattr(old_state, part), part
    pool.give_back(second)
    assert pool.take(auth_settings()).app is not first.app


def test_an_app_its_test_changed_is_not_reused(make_settings: Callable[..., Settings]) -> None:
    pool = AppPool()
    lease = pool.take(make_settings())
    lease.app.add_api_route("/extra", lambda: None)
    pool.give_back(lease)
    assert pool.take(make_settings()).app is not lease.app
