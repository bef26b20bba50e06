"""How ``playdeck upload`` authenticates, against a real Playdeck server with authentication on:
an API key (``--api-key`` or ``PLAYDECK_API_KEY``, sent as ``Authorization: Bearer``) or a login
(``--username/--password``); secrets are never printed. One test keeps a small stand-in server:
the PhenX dashboard's own server answers a login with a session cookie only, which Playdeck never
does.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp
from typer.testing import CliRunner, Result

from playdeck.cli.main import app
from playdeck.kit.clock import utcnow
from playdeck.models import ApiKey, AuditEvent, Project, Run, User

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


def test_login_with_cookie_only_replays_the_session_cookie(
    serve_app: Callable[[ASGIApp], str],
) -> None:
    """A PhenX dashboard answers a login with a cookie and no token: the cookie is replayed."""
    cookie = secrets.token_hex(16)
    server = StandIn(token=None, cookie=cookie)
    url = serve_app(server.app())

    result = upload("--server", url, env={"PLAYDECK_USERNAME": "ci", "PLAYDECK_PASSWORD": PASSWORD})

    assert result.exit_code == 0, result.output
    assert server.uploads == [
        {"authorization": "", "cookie": f"playdeck_session={cookie}", "projectName": "web"}
    ]


# --- against a real Playdeck server --------------------------------------------------------

SECRET = "cli-upload-secret-0123456789abcdefghijklmnop"
CI_PASSWORD = "lantern orchard quietly sings"


class LiveServer(Protocol):
    url: str


@pytest.fixture
def server(make_live_server: Callable[..., LiveServer]) -> LiveServer:
    return make_live_server(require_auth=True, secret_key=SECRET)


@pytest.mark.parametrize("via", ["flag", "environment"])
def test_api_key_uploads_and_is_never_printed(
    server: LiveServer,
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
    db: Session,
    via: str,
) -> None:
    key = make_api_key(make_account("ci"))
    if via == "flag":
        result = upload("--server", server.url, "--api-key", key)
    else:
        result = upload("--server", server.url, env={"PLAYDECK_API_KEY": key})

    assert result.exit_code == 0, result.output
    run = db.scalars(select(Run)).one()
    assert result.stdout.strip() == f"{server.url}/runs/{run.id}"
    assert db.get(Project, run.project_id).name == "web"  # type: ignore[union-attr]
    assert db.scalars(select(ApiKey.last_used_at)).one() is not None  # the key did it
    assert key not in result.output and key[3:] not in result.output


def test_revoked_key_is_refused_with_the_servers_reason(
    server: LiveServer,
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
    db: Session,
) -> None:
    key = make_api_key(make_account("ci"))
    row = db.scalars(select(ApiKey)).one()
    row.revoked_at = utcnow()
    db.commit()

    result = upload("--server", server.url, "--api-key", key)

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "playdeck: upload refused (HTTP 401): Invalid or expired API key"
    )
    assert key not in result.output
    assert db.scalars(select(Run)).all() == []


def test_restricted_keys_upload_only_where_they_may(
    server: LiveServer,
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
    db: Session,
) -> None:
    ci = make_account("ci")
    db.add(Project(name="web", slug="web"))
    db.commit()
    web_only = make_api_key(ci, project="web")
    read_only = make_api_key(ci, name="dashboards", scopes=["read"])

    elsewhere = upload("--server", server.url, "--api-key", web_only, "--project", "blog")
    reading = upload("--server", server.url, "--api-key", read_only)
    allowed = upload("--server", server.url, "--api-key", web_only)

    assert elsewhere.exit_code == 1
    assert elsewhere.stderr.strip() == "playdeck: upload refused (HTTP 404): Project not found"
    assert reading.exit_code == 1
    assert "upload refused (HTTP 403)" in reading.stderr
    assert allowed.exit_code == 0, allowed.output
    assert [p.name for p in db.scalars(select(Project))] == ["web"]
    assert len(db.scalars(select(Run)).all()) == 1


def test_login_then_upload(
    server: LiveServer, make_account: Callable[..., User], db: Session
) -> None:
    make_account("ci", password=CI_PASSWORD)

    result = upload("--server", server.url, "--username", "ci", "--password", CI_PASSWORD)

    assert result.exit_code == 0, result.output
    run = db.scalars(select(Run)).one()
    assert result.stdout.strip() == f"{server.url}/runs/{run.id}"
    assert CI_PASSWORD not in result.output
    logins = db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("login.%")))
    assert logins.all() == ["login.succeeded"]


def test_refused_login_stops_before_uploading(
    server: LiveServer, make_account: Callable[..., User], db: Session
) -> None:
    make_account("ci", password=CI_PASSWORD)
    wrong = "not the password " + secrets.token_hex(8)

    result = upload(
        "--server", server.url, env={"PLAYDECK_USERNAME": "ci", "PLAYDECK_PASSWORD": wrong}
    )

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "playdeck: login refused (HTTP 401): Invalid username or password"
    )
    assert wrong not in result.output
    assert db.scalars(select(Run)).all() == []
