"""The refusals of a sign-on proven on the real provider's own ID tokens (oidc-provider): a
wrong nonce through the whole callback, a token issued to another client, an expired one, and
one signed by a key the provider rotated out. (``test_id_tokens.py`` proves the same checks on
tokens the test forges itself; ``test_sign_in.py`` the wrong state, the replayed code, the
unverified email and the allowlist.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import cast
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import time_machine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.auth.sessions import secret_of
from playdeck.kit.clock import utcnow
from playdeck.models import AuditEvent, User
from playdeck.settings import Settings
from playdeck.sso import client as oidc
from playdeck.sso import flow
from playdeck.sso.client import ProviderClients, SignOnRefused, validate_id_token
from playdeck.sso.config import Provider
from tests.fixtures.oidc_provider import (
    OTHER_CLIENT_SECRET,
    OidcProvider,
    run_provider,
    sign_in_over_http,
)

from .conftest import APP_URL
from .support import callback_url, finish

AppFactory = Callable[..., TestClient]


def _provider(running: OidcProvider, name: str = "test", **fields: str) -> Provider:
    return Provider.model_validate(running.provider_entry(name, **fields))


def _real_id_token(
    clients: ProviderClients, provider: Provider, login: str = "ada"
) -> tuple[str, str]:
    """An ID token the provider issues to ``provider``'s client for ``login`` (the whole code
    flow, exchanged here): the raw token and the nonce of its sign-in."""
    redirect_uri = f"{APP_URL}/auth/sso/{provider.name}/callback"
    url, pending = oidc.authorization_request(clients, provider, redirect_uri=redirect_uri)
    with httpx.Client(timeout=10) as person:
        back = sign_in_over_http(person, url, login=login, stop_at=redirect_uri)
    code = parse_qs(urlsplit(back).query)["code"][0]
    answer = httpx.post(
        clients.metadata(provider).token_endpoint,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": pending.code_verifier,
        },
        auth=(provider.client_id, provider.secret()),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    raw: str = answer.json()["id_token"]
    return raw, pending.nonce


def _refusal(clients: ProviderClients, provider: Provider, raw: str, nonce: str) -> str:
    with pytest.raises(SignOnRefused) as refused:
        validate_id_token(clients, provider, raw, nonce=nonce)
    return f"{refused.value.code}: {refused.value.detail}"


def test_a_wrong_nonce_in_the_providers_token_is_refused_at_the_callback(
    sso_client: AppFactory, db: Session
) -> None:
    app = sso_client()
    url = callback_url(app, "ada")
    settings: Settings = cast(FastAPI, app.app).state.settings
    started = flow.unseal(
        app.cookies.get(flow.FLOW_COOKIE), provider="test", secret_key=secret_of(settings)
    )
    # The same sign-in (state, PKCE verifier) but another sign-in's nonce: only the ID
    # token's nonce can tell them apart.
    other = replace(started.pending, nonce="another-sign-ins-nonce")
    app.cookies.set(
        flow.FLOW_COOKIE,
        flow.seal(flow.Flow(pending=other), secret_key=secret_of(settings)),
    )
    response = finish(app, url)
    assert response.status_code == 400
    assert "(nonce)" in response.text
    assert app.get("/api/auth/me").status_code == 401
    assert db.scalars(select(User)).all() == []
    failure = db.scalars(select(AuditEvent)).one()
    assert failure.details == {"via": "sso:test", "reason": "sso_invalid_id_token"}


def test_the_providers_token_for_another_client_is_refused(oidc_provider: OidcProvider) -> None:
    clients = ProviderClients()
    other_app = _provider(
        oidc_provider, "other", client_id="other-app", client_secret=OTHER_CLIENT_SECRET
    )
    raw, nonce = _real_id_token(clients, other_app)
    assert validate_id_token(clients, other_app, raw, nonce=nonce)["sub"] == "ada"
    playdeck = _provider(oidc_provider, "other")  # the same issuer, Playdeck's client id
    assert _refusal(ProviderClients(), playdeck, raw, nonce) == (
        "sso_invalid_id_token: The ID token is not valid for this sign-in (aud)."
    )


def test_the_providers_token_is_refused_once_it_expired(oidc_provider: OidcProvider) -> None:
    clients = ProviderClients()
    provider = _provider(oidc_provider)
    raw, nonce = _real_id_token(clients, provider)
    assert validate_id_token(clients, provider, raw, nonce=nonce)["sub"] == "ada"
    # oidc-provider's ID tokens live an hour; Playdeck allows a minute of clock skew.
    with time_machine.travel(utcnow() + timedelta(hours=1, minutes=2), tick=False):
        refused = _refusal(clients, provider, raw, nonce)
    assert refused.startswith("sso_invalid_id_token") and "(exp)" in refused


def test_a_token_signed_by_a_key_the_provider_rotated_out_is_refused(tmp_path: Path) -> None:
    clients = ProviderClients()  # one Playdeck process's caches, across the rotation
    with run_provider(tmp_path, kid="key-2025") as before:
        provider = _provider(before)
        old, old_nonce = _real_id_token(clients, provider)
        assert validate_id_token(clients, provider, old, nonce=old_nonce)["sub"] == "ada"
    port = urlsplit(before.issuer).port
    # The provider comes back with a new key under a new id and no longer publishes the old.
    with run_provider(tmp_path, port=port, kid="key-2026") as after:
        assert after.issuer == before.issuer
        new, new_nonce = _real_id_token(clients, provider)
        assert validate_id_token(clients, provider, new, nonce=new_nonce)["sub"] == "ada"
        assert _refusal(clients, provider, old, old_nonce).startswith("sso_unknown_key")
