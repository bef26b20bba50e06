"""Passwords built from context words (the username, the email, the product's name) are refused
(NIST SP 800-63B), through the real API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from playdeck.settings import Settings

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"


@pytest.fixture
def client(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> TestClient:
    return make_client(make_settings(require_auth=True, secret_key=SECRET, allow_registration=True))


@pytest.mark.parametrize(
    ("username", "email", "password"),
    [
        ("resetme", None, "resetme-resetme-resetme"),
        ("carol", None, "Playdeck-dashboard"),
        ("carol", None, "playdeckplaydeck"),
        ("dave", "alice.smith@example.com", "alice.smith.2024!alice"),
        ("erin", None, "erin-playdeck-2024!!"),
    ],
)
def test_passwords_built_from_context_words_are_refused(
    client: TestClient, username: str, email: str | None, password: str
) -> None:
    body = {"email": email or f"{username}@example.org", "username": username, "password": password}
    response = client.post("/api/auth/register", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "weak_password"
    assert "product's name" in response.json()["detail"]


def test_a_passphrase_may_mention_the_product(client: TestClient) -> None:
    body = {
        "email": "frank@example.org",
        "username": "frank",
        "password": "frank likes the playdeck tangerine",
    }
    assert client.post("/api/auth/register", json=body).status_code == 201
