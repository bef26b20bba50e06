"""Helpers shared by the API-key tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient

from tests.fixtures.accounts import PASSWORD as PASSWORD
from tests.fixtures.accounts import SECRET as SECRET

KEY_PATTERN = re.compile(r"pd_[0-9a-f]{64}")
INVALID_KEY = "Invalid or expired API key"
DATA = Path(__file__).parents[1] / "data"
PHENX_SUBMIT = DATA / "phenx" / "submit.json"


def phenx_run(project: str | None = None) -> dict[str, Any]:
    """The PhenX reporter's JSON submission fixture, optionally for another project."""
    run: dict[str, Any] = orjson.loads(PHENX_SUBMIT.read_bytes())
    if project is not None:
        run["projectName"] = project
    return run


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def x_api_key(value: str) -> dict[str, str]:
    return {"X-API-Key": value}


def access_token(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in and return the access token (the cookie is dropped: bearer requests only)."""
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return str(response.json()["access_token"])
