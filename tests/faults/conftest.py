"""Fixtures of the fault suite (``pytest -m faults tests/faults``): private services."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .services import Instance, Postgres, Redis, postgres_bin, start_instances, stop_instances


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def private_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    if postgres_bin() is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql")
    del tmp_path_factory
    # Not under pytest's private temp directory: the server runs as ``postgres``.
    directory = Path(tempfile.mkdtemp(prefix="playdeck-faults-pg-"))
    server = Postgres(directory)
    try:
        server.init()
        yield server
        server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def fresh_database(private_postgres: Postgres) -> str:
    """An empty database (no tables) on the private cluster."""
    return private_postgres.create_database(f"faults_{secrets.token_hex(4)}")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[Redis]:
    server = Redis(tmp_path)
    try:
        server.start()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture
def instances(tmp_path: Path) -> Iterator[Callable[..., list[Instance]]]:
    started: list[Instance] = []

    def factory(count: int, env: dict[str, str], *, wait: bool = True) -> list[Instance]:
        new = start_instances(count, env, tmp_path, wait=wait)
        started.extend(new)
        return new

    yield factory
    stop_instances(started)
