"""Password sign-in turned off (but for the break-glass admin), password-less accounts, and
single-sign-on sessions: the same session as a password sign-in's, ended the same ways, and
signed out at the provider too (RP-initiated logout)."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from playdeck.models import AuditEvent, UserSession
from playdeck.settings import Settings
from tests.fixtures.accounts import PASSWORD, create_account
from tests.fixtures.oidc_provider import OidcProvider

from .conftest import APP_URL
from .support import HTML, query, sign_on

AppFactory = Callable[..., TestClient]


def _settings(app: TestClient) -> Settings:
    settings: Settings = cast(FastAPI, app.app).state.settings
    return settings


def _login(app: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    response: httpx.Response = app.post(
        "/api/auth/login", json={"username": username, "password": password}
    )
    return response


def test_with_password_sign_in_off_only_the_break_glass_admin_uses_a_password(
    sso_client: AppFactory, engine: Engine
) -> None:
    app = sso_client(password_sign_in=False, break_glass_admin="root")
    create_account(engine, _settings(app), "root", role="admin")
    create_account(engine, _settings(app), "alice", role="user")

    refused = _login(app, "alice")
    assert refused.status_code == 403
    assert refused.json()["code"] == "password_sign_in_disabled"
    page = app.get("/login", headers=HTML)
    assert "Break-glass administrator sign-in" in page.text
    assert "Sign in with Test ID" in page.text
    assert _login(app, "root").status_code == 200


def test_registration_is_closed_while_password_sign_in_is_off(sso_client: AppFactory) -> None:
    app = sso_client(password_sign_in=False, allow_registration=True)
    response = app.post(
        "/api/auth/register", json={"email": "zed@example.com", "password": PASSWORD}
    )
    assert response.status_code == 403


def test_password_sign_in_cannot_be_turned_off_without_a_provider(
    auth_settings: Callable[..., Settings],
) -> None:
    with pytest.raises(ValidationError, match="needs single sign-on"):
        auth_settings(password_sign_in=False)


def test_a_single_sign_on_account_has_no_password_to_sign_in_with(
    sso_client: AppFactory,
) -> None:
    app = sso_client()
    assert sign_on(app, "ada").status_code == 303
    app.cookies.clear()
    for guess in ("", "x" * 20, "None"):
        assert _login(app, "ada", guess or "p").status_code == 401


def _session_csrf(app: TestClient) -> str:
    me = app.get("/api/auth/me")
    assert me.status_code == 200, me.text
    token: str = me.json()["csrf_token"]
    return token


def test_sign_out_ends_the_session_and_signs_out_at_the_provider(
    sso_client: AppFactory, oidc_provider: OidcProvider, db: Session
) -> None:
    app = sso_client()
    assert sign_on(app, "ada").status_code == 303
    response = app.post(
        "/logout", data={"csrf_token": _session_csrf(app)}, headers=HTML, follow_redirects=False
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(f"{oidc_provider.issuer}/session/end")
    assert query(location) == {
        "client_id": ["playdeck"],
        "post_logout_redirect_uri": [f"{APP_URL}/login"],
    }
    assert app.get("/api/auth/me").status_code == 401
    assert db.scalars(select(UserSession)).all() == []
    # The provider accepts the request: it asks the person to confirm signing out there.
    with httpx.Client(timeout=10) as person:
        confirm = person.get(location)
    assert confirm.status_code == 200 and "/session/end/confirm" in confirm.text


def test_a_single_sign_on_session_is_an_ordinary_session(
    sso_client: AppFactory, db: Session
) -> None:
    app = sso_client()
    assert sign_on(app, "ada").status_code == 303
    row = db.scalars(select(UserSession)).one()
    assert row.sso_provider == "test"
    listed = app.get("/account", headers=HTML)
    assert listed.status_code == 200 and "this device" in listed.text
    ended = app.post("/api/auth/logout-all", headers={"x-csrf-token": _session_csrf(app)})
    assert ended.status_code == 204, ended.text
    assert app.get("/api/auth/me").status_code == 401
    db.rollback()  # a fresh snapshot
    actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions[-1] == "logout.all"


def test_a_deactivated_account_cannot_sign_on(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    app = sso_client()
    assert sign_on(app, "ada").status_code == 303
    with engine.begin() as conn:
        conn.execute(text("UPDATE users SET is_active = false WHERE username = 'ada'"))
    assert app.get("/api/auth/me").status_code == 401  # the live session stops at once
    app.cookies.clear()
    refused = sign_on(app, "ada")
    assert refused.status_code == 403
    assert "deactivated" in refused.text
    assert app.get("/api/auth/me").status_code == 401
    reasons = [
        e.details.get("reason")
        for e in db.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed"))
    ]
    assert reasons == ["inactive"]
