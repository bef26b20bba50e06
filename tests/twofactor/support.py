"""Helpers of the two-factor tests: enrol through the API, start and finish a sign-in."""

from __future__ import annotations

from typing import Any

import pyotp
from fastapi.testclient import TestClient

from tests.auth.support import PASSWORD, bearer, login

CHALLENGE_PATH = "/api/auth/login/two-factor"


def code_now(secret: str) -> str:
    """What the authenticator app shows at the (possibly frozen) current time."""
    return pyotp.TOTP(secret).now()


def enrol(client: TestClient, username: str, password: str = PASSWORD) -> tuple[str, list[str]]:
    """Sign in with the password, turn two-factor authentication on; the secret and the
    recovery codes. The confirming code's step is used up: the next code is 30 s later."""
    headers = bearer(login(client, username, password).access)
    started = client.post(
        "/api/auth/two-factor/enrol", json={"password": password}, headers=headers
    )
    assert started.status_code == 200, started.text
    secret = str(started.json()["secret"])
    confirmed = client.post(
        "/api/auth/two-factor/confirm", json={"code": code_now(secret)}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    return secret, list(confirmed.json()["recovery_codes"])


def challenge(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """The challenge a right password earns an account with two-factor authentication on."""
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "two_factor_required"
    return str(response.json()["challenge"])


def answer(client: TestClient, token: str, code: str) -> Any:
    return client.post(CHALLENGE_PATH, json={"challenge": token, "code": code})
