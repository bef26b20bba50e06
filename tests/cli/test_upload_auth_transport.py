"""How ``playdeck upload`` authenticates: what reaches the server, and that secrets stay unprinted.

Playdeck's own login and API keys come with the authentication and API-key issues; until they
exist, these tests run the CLI against a small stand-in server over a real socket that answers
``POST /api/auth/login`` as the authentication issue specifies (tokens in the JSON body and a
session cookie) and records the upload's headers. Replace them with the real server once it
authenticates (see test_upload_command.py for the end-to-end tests).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp
from typer.testing import CliRunner, Result

from playdeck.cli.main import app

REPORT = Path(__file__).parents[1] / "data" / "playwright" / "report.json"
PASSWORD = "correct horse battery staple"
CLEAN_ENV: dict[str, str | None] = {
    "PLAYDECK_SERVER_URL": None,
    "PLAYDECK_PROJECT": None,
    "PLAYDECK_API_KEY": None,
    "PLAYDECK_USERNAME": None,
    "PLAYDECK_PASSWORD": None,
}


@dataclass
class StandIn:
    token: str | None
    cookie: str | None
    uploads: list[dict[str, str]] = field(default_factory=list)
    logins: list[dict[str, str]] = field(default_factory=list)

    async def login(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.logins.append(body)
        if body != {"username": "ci", "password": PASSWORD}:
            return JSONResponse(
                {"status": 401, "title": "Unauthorized", "detail": "Invalid username or password"},
                status_code=401,
                media_type="application/problem+json",
            )
        payload = {"token_type": "bearer", "access_token": self.token} if self.token else {}
        response = JSONResponse(payload)
        if self.cookie:
            response.set_cookie("playdeck_session", self.cookie, httponly=True)
        return response

    async def upload(self, request: Request) -> JSONResponse:
        form = await request.form()
        self.uploads.append(
            {
                "authorization": request.headers.get("authorization", ""),
                "cookie": request.headers.get("cookie", ""),
                "projectName": str(form.get("projectName")),
            }
        )
        await form.close()
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {"success": True, "testRunId": 7, "projectId": 1, "url": f"{base}/runs/7"},
            status_code=201,
        )

    def app(self) -> ASGIApp:
        return Starlette(
            routes=[
                Route("/api/auth/login", self.login, methods=["POST"]),
                Route("/api/test-runs/upload", self.upload, methods=["POST"]),
            ]
        )


def upload(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        app, ["upload", str(REPORT), "--project", "web", *args], env={**CLEAN_ENV, **(env or {})}
    )


def test_api_key_is_sent_as_bearer_and_never_printed(
    serve_app: Callable[[ASGIApp], str],
) -> None:
    server = StandIn(token=None, cookie=None)
    url = serve_app(server.app())
    key = "pd_" + secrets.token_hex(32)

    result = upload("--server", url, env={"PLAYDECK_API_KEY": key})

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{url}/runs/7"
    assert server.uploads == [
        {"authorization": f"Bearer {key}", "cookie": "", "projectName": "web"}
    ]
    assert key not in result.output


def test_login_then_upload_with_the_access_token(serve_app: Callable[[ASGIApp], str]) -> None:
    token = secrets.token_urlsafe(24)
    server = StandIn(token=token, cookie=secrets.token_hex(16))
    url = serve_app(server.app())

    result = upload("--server", url, "--username", "ci", "--password", PASSWORD)

    assert result.exit_code == 0, result.output
    assert server.logins == [{"username": "ci", "password": PASSWORD}]
    # The bearer token alone: a cookie would make the upload a CSRF-checked browser request.
    assert server.uploads == [
        {"authorization": f"Bearer {token}", "cookie": "", "projectName": "web"}
    ]
    assert PASSWORD not in result.output
    assert token not in result.output


def test_login_with_cookie_only_replays_the_session_cookie(
    serve_app: Callable[[ASGIApp], str],
) -> None:
    cookie = secrets.token_hex(16)
    server = StandIn(token=None, cookie=cookie)
    url = serve_app(server.app())

    result = upload("--server", url, env={"PLAYDECK_USERNAME": "ci", "PLAYDECK_PASSWORD": PASSWORD})

    assert result.exit_code == 0, result.output
    assert server.uploads == [
        {"authorization": "", "cookie": f"playdeck_session={cookie}", "projectName": "web"}
    ]


def test_refused_login_stops_before_uploading(serve_app: Callable[[ASGIApp], str]) -> None:
    server = StandIn(token="unused", cookie=None)
    url = serve_app(server.app())
    wrong = "not the password " + secrets.token_hex(8)

    result = upload("--server", url, "--username", "ci", "--password", wrong)

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "playdeck: login refused (HTTP 401): Invalid username or password"
    )
    assert server.uploads == []
    assert wrong not in result.output
