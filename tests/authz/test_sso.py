"""The single-sign-on routes are public and answer every persona alike: the start redirects to
the provider, and a callback this browser did not start (400), or "Accept with" on an unknown
invitation (404), is refused and changes nothing, whoever sends it. (The matrix in
test_matrix.py covers them on an app without providers: 404.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from playdeck.settings import Settings
from tests.fixtures.oidc_provider import OidcProvider, run_provider
from tests.sso.conftest import write_sso_file

from .conftest import authz_settings
from .support import ANONYMOUS, PERSONAS, World, bearer, login, snapshot


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    with run_provider(tmp_path_factory.mktemp("authz-oidc")) as running:
        yield running


@pytest.fixture(scope="module")
def shared_settings(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, provider: OidcProvider
) -> Settings:
    """This module's app: the matrix's settings plus the test provider."""
    folder = tmp_path_factory.mktemp("authz-sso")
    config = write_sso_file(Path(folder / "sso.toml"), [provider.provider_entry()])
    return authz_settings(database_url, folder / "data", oidc_config=config)


@pytest.mark.parametrize("persona", PERSONAS)
def test_sso_start_is_the_same_redirect_for_everyone(
    persona: str, api: TestClient, world: World, provider: OidcProvider
) -> None:
    del world
    token = None if persona == ANONYMOUS else login(api, persona)
    api.cookies.clear()
    response = api.get("/auth/sso/test", headers=bearer(token), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{provider.issuer}/auth?")
    assert api.get("/auth/sso/nope", headers=bearer(token)).status_code == 404


# Requests no sign-on in this browser led to: (method, path, options, status, what it says).
UNSTARTED: dict[str, tuple[str, str, dict[str, Any], int, str]] = {
    "callback": (
        "GET",
        "/auth/sso/test/callback",
        {"params": {"state": "forged", "code": "stolen"}},
        400,
        "sso_state_mismatch",
    ),
    # "Accept with" on an unknown invitation: its page again, never the provider.
    "invitation": (
        "POST",
        "/auth/sso/test/invitation",
        {"data": {"token": "pdi_unknown"}},
        404,
        "invalid, already used or expired",
    ),
}


@pytest.mark.parametrize("case", sorted(UNSTARTED))
@pytest.mark.parametrize("persona", PERSONAS)
def test_a_sign_on_this_browser_did_not_start_is_refused_for_everyone(
    persona: str,
    case: str,
    api: TestClient,
    world: World,
    engine: Engine,
    shared_settings: Settings,
) -> None:
    del world
    method, path, options, status, says = UNSTARTED[case]
    token = None if persona == ANONYMOUS else login(api, persona)
    api.cookies.clear()
    before = snapshot(engine, shared_settings.files_dir)
    response = api.request(method, path, headers=bearer(token), follow_redirects=False, **options)
    assert response.status_code == status
    assert says in response.text
    assert "location" not in response.headers
    assert snapshot(engine, shared_settings.files_dir) == before
