"""``playdeck upload`` and the pytest plugin's sender retry transient failures, with one
``Idempotency-Key`` for every attempt, against a real Playdeck server behind a fault injector
(the first requests answered 503 or cut off, the way a restarting instance or a load balancer
answers)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send
from typer.testing import CliRunner

from playdeck.app import create_app
from playdeck.cli.main import app as cli
from playdeck.models import Run
from playdeck.pytest_plugin.connection import Connection
from playdeck.pytest_plugin.sender import send_run
from playdeck.settings import Settings

REPORT = Path(__file__).parents[1] / "data" / "playwright" / "report.json"


class Flaky:
    """Answers the first ``failures`` uploads 503 (``Retry-After: 0``), then passes through."""

    def __init__(self, app: ASGIApp, failures: int) -> None:
        self.app = app
        self.failures = failures
        self.keys: list[str | None] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/upload"):
            headers = dict(scope["headers"])
            self.keys.append(headers.get(b"idempotency-key", b"").decode() or None)
            if self.failures > 0:
                self.failures -= 1
                while (await receive()).get("more_body"):
                    pass
                await send(
                    {
                        "type": "http.response.start",
                        "status": 503,
                        "headers": [(b"retry-after", b"0"), (b"content-length", b"0")],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)


def test_playdeck_upload_retries_a_503_and_stores_the_run_once(
    settings: Settings, serve_app: Callable[[ASGIApp], str], db: Session
) -> None:
    flaky = Flaky(create_app(settings), failures=2)
    url = serve_app(flaky)
    result = CliRunner().invoke(
        cli,
        ["upload", str(REPORT), "--server", url, "--project", "web"],
        env={"PLAYDECK_API_KEY": None, "PLAYDECK_UPLOAD_RETRIES": None},
    )
    assert result.exit_code == 0, result.stderr
    assert "attempt 1 of 5 failed (HTTP 503); retrying" in result.stderr
    assert "attempt 2 of 5 failed (HTTP 503); retrying" in result.stderr
    assert len(flaky.keys) == 3 and len(set(flaky.keys)) == 1 and flaky.keys[0]
    assert db.scalar(select(func.count()).select_from(Run)) == 1


def test_the_pytest_plugin_retries_and_says_so(
    settings: Settings, serve_app: Callable[[ASGIApp], str], db: Session
) -> None:
    flaky = Flaky(create_app(settings), failures=1)
    url = serve_app(flaky)
    said: list[str] = []
    run_url = send_run(
        Connection(server=url, timeout=30),
        report=REPORT.read_bytes(),
        fields={"projectName": "plugin"},
        say=said.append,
    )
    assert "/runs/" in run_url
    assert said == [
        f"playdeck: upload to {url}: attempt 1 of 5 failed (HTTP 503); retrying in 0.0 s"
    ]
    assert len(set(flaky.keys)) == 1
    assert db.scalar(select(func.count()).select_from(Run)) == 1


def test_a_connection_error_is_retried_as_often_as_told(unused_port: int) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "upload",
            str(REPORT),
            "--server",
            f"http://127.0.0.1:{unused_port}",
            "--project",
            "w",
            "--retries",
            "1",
        ],
        env={"PLAYDECK_API_KEY": None, "PLAYDECK_UPLOAD_RETRIES": None},
    )
    assert result.exit_code == 1
    assert result.stderr.count("retrying") == 1  # a connection error is retried, once
