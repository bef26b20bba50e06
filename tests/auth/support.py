"""Helpers shared by the authentication tests: log in and build headers like a client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.fixtures.accounts import PASSWORD as PASSWORD
from tests.fixtures.accounts import SECRET as SECRET


@dataclass
class Login:
    response: httpx.Response

    @property
    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = self.response.json()
        return data

    @property
    def access(self) -> str:
        return str(self.body["access_token"])

    @property
    def refresh(self) -> str:
        return str(self.body["refresh_token"])

    @property
    def csrf(self) -> str:
        return str(self.body["csrf_token"])

    @property
    def cookie(self) -> str:
        return str(self.response.cookies["playdeck_session"])


def login(client: TestClient, username: str = "alice", password: str = PASSWORD) -> Login:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return Login(response)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
