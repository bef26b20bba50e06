"""Every response carries ``X-Request-ID``; a trusted proxy's id is kept, anyone else's is not."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient

from playdeck.app import create_app
from playdeck.observability.logging import RequestIdFilter
from playdeck.settings import Settings

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/healthz", 200),
        ("/api/projects", 200),
        ("/api/projects/404", 404),
        ("/static/none.css", 404),
    ],
)
def test_every_response_has_a_request_id(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert GENERATED.fullmatch(response.headers["X-Request-ID"])


def test_each_request_gets_its_own_id(client: TestClient) -> None:
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(5)}
    assert len(ids) == 5


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.request_ids: list[str] = []
        self.addFilter(RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.request_ids.append(record.request_id)  # type: ignore[attr-defined]


def test_an_unexpected_error_carries_the_id_it_was_logged_with(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaput")

    collect = _Collect()
    logger = logging.getLogger("playdeck")
    logger.addHandler(collect)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            answered = []
            for accept in ("application/json", "text/html"):
                response = client.get("/boom", headers={"Accept": accept})
                assert response.status_code == 500
                answered.append(response.headers["X-Request-ID"])
    finally:
        logger.removeHandler(collect)
    assert all(GENERATED.fullmatch(request_id) for request_id in answered)
    assert collect.request_ids == answered


def test_a_trusted_proxys_request_id_is_kept(
    make_live_server: Callable[..., object],
) -> None:
    server = make_live_server(trusted_proxies=["127.0.0.1"])
    url = server.url  # type: ignore[attr-defined]
    kept = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "nginx-3f2a9c"})
    assert kept.headers["X-Request-ID"] == "nginx-3f2a9c"
    # Even from the proxy, something that is not an id is replaced, never echoed into logs.
    for bad in ("x" * 129, "a b", "evil\u00e9"):
        replaced = httpx.get(f"{url}/healthz", headers={b"X-Request-ID": bad.encode("latin-1")})
        assert GENERATED.fullmatch(replaced.headers["X-Request-ID"])


def test_anyone_elses_request_id_is_replaced(make_live_server: Callable[..., object]) -> None:
    server = make_live_server(trusted_proxies=["10.0.0.0/8"])
    url = server.url  # type: ignore[attr-defined]
    response = httpx.get(f"{url}/healthz", headers={"X-Request-ID": "chosen-by-the-client"})
    assert response.headers["X-Request-ID"] != "chosen-by-the-client"
    assert GENERATED.fullmatch(response.headers["X-Request-ID"])
