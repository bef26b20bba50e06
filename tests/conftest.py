"""The suite's pytest fixtures: a migrated database per session (per xdist worker), emptied after
each test; the app and an HTTP client against it; accounts, API keys and live servers. The
factories behind them live in ``tests/fixtures/``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.types import ASGIApp
from typer.testing import CliRunner, Result

from playdeck.app import create_app, settled_heap
from playdeck.auth.setup_token import SETUP_TOKEN_HEADER
from playdeck.cli.main import app as cli
from playdeck.db import make_engine
from playdeck.models import User
from playdeck.settings import Settings
from tests.fixtures import accounts, servers
from tests.fixtures.apps import POOL as APPS
from tests.fixtures.apps import Lease
from tests.fixtures.database import empty_tables, migrated_database
from tests.fixtures.passwords import CHEAP_ARGON2, PRODUCTION_ARGON2, argon2_parameters
from tests.fixtures.servers import LiveServer, serve_in_thread

ACCOUNT_PASSWORD = accounts.PASSWORD
INGEST_IN_WORKER_ENV = "PLAYDECK_TEST_INGEST_IN_WORKER_PROCESS"


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    """Sign-ins at argon2's smallest parameters (see tests/fixtures/passwords.py)."""
    with argon2_parameters(CHEAP_ARGON2):
        yield


@pytest.fixture(scope="session", autouse=True)
def _settled_heap() -> Iterator[None]:
    """The session settles the heap once, as a server does at startup: each app's lifespan then
    leaves it frozen (``settled_heap`` nests), instead of a full collection of this process's
    ~350,000 objects per app (~0.2 s of CPU each, a third of a page test's)."""
    with settled_heap():
        yield


@pytest.fixture
def production_password_hashing() -> Iterator[None]:
    """For tests about hashing itself: production's argon2id parameters."""
    with argon2_parameters(PRODUCTION_ARGON2):
        yield


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with migrated_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests share one migrated database and each starts from empty tables."""
    uses_database = "database_url" in request.fixturenames
    engine = request.getfixturevalue("engine") if uses_database else None
    yield
    if engine is not None:
        empty_tables(engine)


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            # Suites probe many missing ids from one client on purpose (hidden == missing);
            # tests/security/test_anti_automation.py runs with the real limit.
            "not_found_rate_limit": "100000/minute",
            # Ingests run in process: a worker pool per test app would spawn a process each
            # time (tests/ingest/test_worker_pool.py covers the pool).
            # PLAYDECK_TEST_INGEST_IN_WORKER_PROCESS=1 runs them through the pool instead.
            "ingest_in_worker_process": os.environ.get(INGEST_IN_WORKER_ENV) == "1",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def make_client(engine: Engine) -> Iterator[Callable[..., TestClient]]:
    """``make_client(settings, client=(host, port))``: a client of an app with a new instance
    (an app built for equal settings is reused: tests/fixtures/apps.py); ``client`` is the
    peer address the app sees (default: Starlette's ``testclient``)."""
    clients: list[tuple[TestClient, Lease]] = []

    def factory(settings: Settings, **options: Any) -> TestClient:
        lease = APPS.take(settings)
        client = TestClient(lease.app, raise_server_exceptions=False, **options)
        client.__enter__()
        # TestClient's peer is "testclient", not the server's own machine: like an operator who
        # read the log, it sends the setup token (tests/security proves the refusal without it).
        app = cast(FastAPI, client.app)
        client.headers[SETUP_TOKEN_HEADER] = app.state.setup_token.value
        clients.append((client, lease))
        return client

    yield factory
    for client, lease in clients:
        client.__exit__(None, None, None)
        APPS.give_back(lease)


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    """Settings with authentication on (``accounts.SECRET``), and any other overrides."""

    def factory(**overrides: Any) -> Settings:
        return make_settings(**accounts.auth_overrides(**overrides))

    return factory


@pytest.fixture
def auth_client(
    make_client: Callable[[Settings], TestClient], auth_settings: Callable[..., Settings]
) -> TestClient:
    return make_client(auth_settings())


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(make_client: Callable[[Settings], TestClient], settings: Settings) -> TestClient:
    return make_client(settings)


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session for reading what the app stored (tests assert on the database itself)."""
    with Session(engine) as session:
        yield session


# --- accounts and API keys, made by the real services (committed, as the CLI would) ---


@pytest.fixture
def make_account(engine: Engine, make_settings: Callable[..., Settings]) -> Callable[..., User]:
    """A user (default: a ``reporter`` account, as CI uses) with ``ACCOUNT_PASSWORD``."""
    settings = make_settings()

    def factory(
        username: str = "ci", *, role: str = "reporter", password: str = ACCOUNT_PASSWORD
    ) -> User:
        return accounts.create_account(engine, settings, username, role=role, password=password)

    return factory


@pytest.fixture
def make_api_key(engine: Engine) -> Callable[..., str]:
    """An API key of ``owner`` (restrictions as the API takes them); returns the plaintext."""

    def factory(owner: User, *, name: str = "ci", **restrictions: Any) -> str:
        return accounts.create_api_key(engine, owner, name=name, **restrictions)

    return factory


@pytest.fixture
def run_cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> Callable[..., Result]:
    """``playdeck ARGS...`` in-process against the test database (authentication off)."""
    monkeypatch.chdir(tmp_path)
    env = {
        "PLAYDECK_DATABASE_URL": database_url,
        "PLAYDECK_DATA_DIR": str(tmp_path / "data"),
        "PLAYDECK_REQUIRE_AUTH": "false",
    }
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(cli, list(args), env=env, input=input)

    return invoke


# --- a real server on a free loopback port, for clients that speak HTTP over a socket ---


@pytest.fixture
def make_live_server(
    make_settings: Callable[..., Settings],
) -> Iterator[Callable[..., LiveServer]]:
    with ExitStack() as running:

        def factory(**overrides: Any) -> LiveServer:
            settings = make_settings(**overrides)
            url = running.enter_context(serve_in_thread(create_app(settings)))
            return LiveServer(url=url, settings=settings)

        yield factory


@pytest.fixture
def live_server(make_live_server: Callable[..., LiveServer]) -> LiveServer:
    return make_live_server()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    return servers.unused_port()


@pytest.fixture
def serve_app() -> Iterator[Callable[[ASGIApp], str]]:
    """Serve any ASGI app on a free port for the test; returns its base URL."""
    with ExitStack() as running:
        yield lambda app: running.enter_context(serve_in_thread(app))
