"""The authentication curl examples of the JWT login API's and the PhenX dashboard's guides, run
as written (host and port aside) against a real server: register, login and refresh on
``/auth/*``; setup, then login with the cookie on ``/api/auth/*``."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from .support import SECRET

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")

JWT_API_REGISTER = """curl -X POST http://localhost:8001/auth/register \\
-H "Content-Type: application/json" \\
-d '{
"email": "admin@yourcompany.com",
"password": "your-secure-password",
"full_name": "Admin User"
}'"""

JWT_API_LOGIN = """curl -X POST http://localhost:8001/auth/login \\
-H "Content-Type: application/json" \\
-d '{
"email": "admin@yourcompany.com",
"password": "your-secure-password"
}'"""

JWT_API_REFRESH = """curl -X POST http://localhost:8001/auth/refresh \\
-H "Content-Type: application/json" \\
-d '{
"refresh_token": "REFRESH_TOKEN"
}'"""

PHENX_SETUP = """curl -X POST http://localhost:3000/api/auth/setup \\
  -H "Content-Type: application/json" \\
  -d '{
    "username": "admin",
    "password": "your-secure-password",
    "name": "Administrator"
  }'"""

PHENX_LOGIN = """curl -X POST http://localhost:3000/api/auth/login \\
  -H "Content-Type: application/json" \\
  -d '{"username": "admin", "password": "your-secure-password"}'"""


def _curl(command: str, base_url: str, *extra: str) -> tuple[int, dict[str, Any]]:
    """Run a guide's curl command through bash, as a reader would paste it, against
    ``base_url``; returns (HTTP status, JSON body)."""
    command = command.replace("http://localhost:8001", base_url)
    command = command.replace("http://localhost:3000", base_url)
    flags = ["--silent", "--show-error", "--write-out", "\n%{http_code}", *extra]
    script = f"{command} {shlex.join(flags)}"
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(body) if body else {}


def test_jwt_login_api_register_login_and_refresh(
    make_live_server: Callable[..., Any], engine: Engine
) -> None:
    server = make_live_server(require_auth=True, secret_key=SECRET, allow_registration=True)
    status, user = _curl(JWT_API_REGISTER, server.url)
    assert status == 201, user
    status, tokens = _curl(JWT_API_LOGIN, server.url)
    assert status == 200, tokens
    assert tokens["token_type"] == "bearer"
    refresh = JWT_API_REFRESH.replace("REFRESH_TOKEN", tokens["refresh_token"])
    status, rotated = _curl(refresh, server.url)
    assert status == 200
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert _curl(refresh, server.url)[0] == 401  # the old one is spent


def test_phenx_setup_then_login_with_the_cookie(
    make_live_server: Callable[..., Any], engine: Engine, tmp_path: Any
) -> None:
    server = make_live_server(require_auth=True, secret_key=SECRET)
    status, body = _curl(PHENX_SETUP, server.url)
    assert status == 201, body
    assert _curl(PHENX_SETUP, server.url)[0] == 409

    jar = tmp_path / "cookies.txt"
    status, body = _curl(PHENX_LOGIN, server.url, "--cookie-jar", str(jar))
    assert status == 200
    assert body["user"]["role"] == "admin"
    me = subprocess.run(
        ["curl", "--silent", "--cookie", str(jar), f"{server.url}/api/auth/me"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(me.stdout)["user"]["username"] == "admin"
