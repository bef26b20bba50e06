"""With authentication on, every /api route refuses anonymous callers except the public few."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from playdeck.settings import Settings

PUBLIC_API = {
    "/api/auth/login",
    "/api/auth/setup",
    "/api/auth/register",
    "/api/auth/refresh",
    # A one-time link is the credential (tests/invitations/).
    "/api/auth/invitations/accept",
    "/api/auth/password-reset",
    "/api/auth/verify-email",
    # The challenge a right password earned is the credential (tests/twofactor/).
    "/api/auth/login/two-factor",
}
PUBLIC_READ_PREFIXES = ("/api/projects", "/api/runs", "/api/tests", "/api/files")
# Who is who stays private even in public-read mode: accounts, and a project's members.
USER_DATA_PREFIXES = ("/api/admin", "/api/auth", "/api/users")
USER_DATA_SUFFIXES = (
    "/members",
    "/members/{user_id}",
    "/invitations",
    "/service-accounts",
    "/service-accounts/{account_id}/keys",
)
# A project's settings are not results: its retention policy and disk usage are for the people
# who may change them (project:edit), never for public-read visitors.
SETTINGS_SUFFIXES = ("/retention", "/retention/preview", "/usage")


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def _api_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every documented /api operation (the OpenAPI document is the route table)."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/")
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_every_api_route_but_the_public_ones_answers_401(auth_client: TestClient) -> None:
    routes = _api_routes(auth_client)
    assert routes
    for method, path in routes:
        if path in PUBLIC_API:
            continue
        response = auth_client.request(method, _concrete(path))
        assert response.status_code == 401, f"{method} {path} -> {response.status_code}"
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_health_stays_open_and_the_docs_need_a_sign_in(auth_client: TestClient) -> None:
    for path in ("/healthz", "/readyz"):
        assert auth_client.get(path).status_code == 200, path
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert auth_client.get(path).status_code == 401, path


def test_public_read_opens_reading_results_and_nothing_else(
    make_client: Callable[[Settings], TestClient], auth_settings: Callable[..., Settings]
) -> None:
    client = make_client(auth_settings(public_read=True))
    assert client.get("/api/projects").status_code == 200
    for method, path in _api_routes(client):
        if path in PUBLIC_API:
            continue
        status = client.request(method, _concrete(path)).status_code
        user_data = path.startswith(USER_DATA_PREFIXES) or path.endswith(
            USER_DATA_SUFFIXES + SETTINGS_SUFFIXES
        )
        if method == "GET" and path.startswith(PUBLIC_READ_PREFIXES) and not user_data:
            assert status != 401, f"{method} {path}"
        elif user_data or method != "GET":
            assert status == 401, f"{method} {path} -> {status}"
