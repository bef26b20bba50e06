"""Fixtures that build real objects: a migrated database (SQLite file, or PostgreSQL when
``PLAYDECK_TEST_DATABASE_URL`` is set), the app, and an HTTP client against it."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session
from starlette.types import ASGIApp

from playdeck.apikeys import service as keys_service
from playdeck.apikeys.schemas import ApiKeyCreate
from playdeck.app import create_app
from playdeck.audit.service import Actor
from playdeck.auth.principal import Principal
from playdeck.auth.setup_token import SETUP_TOKEN_HEADER
from playdeck.db import make_engine
from playdeck.migrations import upgrade
from playdeck.models import Base, User
from playdeck.settings import Settings
from playdeck.users import service as users_service

DATA = Path(__file__).parent / "data"


def _create_postgres_database(server_url: str) -> str:
    """A throwaway database on the server named by ``server_url``; returns its URL."""
    url = make_url(server_url)
    name = f"playdeck_test_{secrets.token_hex(4)}"
    admin = make_engine(url.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(server_url: str, database_url: str) -> None:
    name = make_url(database_url).database
    admin = make_engine(server_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = os.environ.get("PLAYDECK_TEST_DATABASE_URL")
    if server:
        url = _create_postgres_database(server)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        _drop_postgres_database(server, url)
    else:
        path = tmp_path_factory.mktemp("db") / "playdeck.db"
        url = f"sqlite:///{path}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests share one migrated database and each starts from empty tables."""
    uses_database = "database_url" in request.fixturenames
    engine = request.getfixturevalue("engine") if uses_database else None
    yield
    if engine is not None:
        _truncate(engine)


@pytest.fixture
def make_settings(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "data_dir": tmp_path / "data",
            # Suites probe many missing ids from one client on purpose (hidden == missing);
            # tests/security/test_anti_automation.py runs with the real limit.
            "not_found_rate_limit": "100000/minute",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return factory


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def make_client(engine: Engine) -> Iterator[Callable[[Settings], TestClient]]:
    clients: list[TestClient] = []

    def factory(settings: Settings) -> TestClient:
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        # TestClient's peer is "testclient", not the server's own machine: like an operator who
        # read the log, it sends the setup token (tests/security proves the refusal without it).
        client.headers[SETUP_TOKEN_HEADER] = client.app.state.setup_token.value
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)


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

ACCOUNT_PASSWORD = "violet tangerine hovercraft"


@pytest.fixture
def make_account(engine: Engine, make_settings: Callable[..., Settings]) -> Callable[..., User]:
    """A user (default: a ``reporter`` account, as CI uses) with ``ACCOUNT_PASSWORD``."""
    settings = make_settings()

    def factory(
        username: str = "ci", *, role: str = "reporter", password: str = ACCOUNT_PASSWORD
    ) -> User:
        with Session(engine, expire_on_commit=False) as session:
            user = users_service.create_user(
                session,
                settings=settings,
                username=username,
                password=password,
                role=role,
                actor=Actor.system("tests"),
                via="tests",
            )
            session.commit()
            return user

    return factory


@pytest.fixture
def make_api_key(engine: Engine) -> Callable[..., str]:
    """An API key of ``owner`` (restrictions as the API takes them); returns the plaintext."""

    def factory(owner: User, *, name: str = "ci", **restrictions: Any) -> str:
        data = ApiKeyCreate.model_validate({"name": name, **restrictions})
        with Session(engine, expire_on_commit=False) as session:
            created = keys_service.create_key(
                session,
                principal=Principal.builtin_admin(),
                owner=owner,
                data=data,
                actor=Actor.system("tests"),
            )
            session.commit()
            return created.key

    return factory


# --- a real server on a free loopback port, for clients that speak HTTP over a socket ---

STARTUP_SECONDS = 15


@dataclass(frozen=True, slots=True)
class LiveServer:
    url: str
    settings: Settings


class _ThreadedServer:
    def __init__(self, app: ASGIApp) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="on", ws="none"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(STARTUP_SECONDS)
        self.socket.close()


@contextmanager
def serve_in_thread(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` on a free port until the generator is closed; yields the base URL."""
    server = _ThreadedServer(app)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@pytest.fixture
def make_live_server(
    make_settings: Callable[..., Settings],
) -> Iterator[Callable[..., LiveServer]]:
    with ExitStack() as servers:

        def factory(**overrides: Any) -> LiveServer:
            settings = make_settings(**overrides)
            url = servers.enter_context(serve_in_thread(create_app(settings)))
            return LiveServer(url=url, settings=settings)

        yield factory


@pytest.fixture
def live_server(make_live_server: Callable[..., LiveServer]) -> LiveServer:
    return make_live_server()


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def serve_app() -> Iterator[Callable[[ASGIApp], str]]:
    """Serve any ASGI app on a free port for the test; returns its base URL."""
    with ExitStack() as servers:
        yield lambda app: servers.enter_context(serve_in_thread(app))
