"""Access tokens: only genuine, unexpired HS256 access tokens of a live session pass."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
import time_machine
from fastapi.testclient import TestClient
from jwt.warnings import InsecureKeyLengthWarning

from playdeck.kit.clock import utcnow
from playdeck.models import User

from .support import SECRET, bearer, login

OTHER_KEY = "another-secret-0123456789abcdefghijklmnopqrstuvwxyz"


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.fixture
def token(auth_client: TestClient, make_user: Callable[..., User]) -> str:
    make_user("alice", role="admin")
    access = login(auth_client).access
    auth_client.cookies.clear()
    return access


def _status(client: TestClient, token: str) -> int:
    return int(client.get("/api/auth/me", headers=bearer(token)).status_code)


def test_genuine_token_is_accepted(auth_client: TestClient, token: str) -> None:
    assert _status(auth_client, token) == 200
    claims = _claims(token)
    assert {"sub", "exp", "iat", "jti", "type", "sid"} <= claims.keys()
    assert claims["type"] == "access"
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_alg_none_token_is_refused(auth_client: TestClient, token: str) -> None:
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(token))}."
    response = auth_client.get("/api/auth/me", headers=bearer(forged))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_token_signed_with_another_key_is_refused(auth_client: TestClient, token: str) -> None:
    forged = jwt.encode(_claims(token), OTHER_KEY, algorithm="HS256")
    assert _status(auth_client, forged) == 401


def test_other_hmac_algorithm_with_the_right_key_is_refused(
    auth_client: TestClient, token: str
) -> None:
    with pytest.warns(InsecureKeyLengthWarning):  # HS512 wants a 64-byte key
        forged = jwt.encode(_claims(token), SECRET, algorithm="HS512")
    assert _status(auth_client, forged) == 401


def test_tampered_payload_is_refused(auth_client: TestClient, token: str) -> None:
    header, _payload, signature = token.split(".")
    claims = _claims(token) | {"sub": "2"}
    assert _status(auth_client, f"{header}.{_b64(claims)}.{signature}") == 401


def test_token_without_exp_is_refused_even_when_correctly_signed(
    auth_client: TestClient, token: str
) -> None:
    claims = _claims(token)
    del claims["exp"]
    assert _status(auth_client, jwt.encode(claims, SECRET, algorithm="HS256")) == 401


@pytest.mark.parametrize("claim", ["sub", "iat", "jti", "type", "sid"])
def test_token_missing_a_required_claim_is_refused(
    auth_client: TestClient, token: str, claim: str
) -> None:
    claims = _claims(token)
    del claims[claim]
    assert _status(auth_client, jwt.encode(claims, SECRET, algorithm="HS256")) == 401


def test_token_of_another_type_is_refused(auth_client: TestClient, token: str) -> None:
    claims = _claims(token) | {"type": "refresh"}
    assert _status(auth_client, jwt.encode(claims, SECRET, algorithm="HS256")) == 401


def test_token_expires_after_its_lifetime(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("alice")
    with time_machine.travel(utcnow(), tick=False) as clock:
        access = login(auth_client).access
        auth_client.cookies.clear()
        clock.shift(timedelta(minutes=14, seconds=59))
        assert _status(auth_client, access) == 200
        clock.shift(timedelta(seconds=2))
        assert _status(auth_client, access) == 401


@pytest.mark.parametrize(
    "value", ["", "garbage", "a.b.c", "x" * 5000, "eyJhbGciOiJIUzI1NiJ9.e30.", "é.é.é"]
)
def test_malformed_bearer_values_are_401(auth_client: TestClient, value: str) -> None:
    response = auth_client.get(
        "/api/projects", headers={"Authorization": f"Bearer {value}".encode()}
    )
    assert response.status_code == 401


def test_pd_prefixed_bearer_is_checked_as_an_api_key_not_a_jwt(auth_client: TestClient) -> None:
    unknown_key = "pd_" + "0" * 64
    for headers in (bearer(unknown_key), {"X-API-Key": unknown_key}):
        response = auth_client.get("/api/projects", headers=headers)
        assert response.status_code == 401
        assert response.json()["detail"] == "Invalid or expired API key"


def test_token_whose_session_was_logged_out_is_refused(auth_client: TestClient, token: str) -> None:
    assert auth_client.post("/api/auth/logout", headers=bearer(token)).status_code == 204
    assert _status(auth_client, token) == 401
