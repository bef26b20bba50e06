"""Cross-site writes are refused whether authentication is on or off, and turning it on after
accounts were made without it is reported at start-up."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import User
from playdeck.settings import Settings

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PLANTED = {"username": "planted", "password": "attacker chosen passphrase", "role": "admin"}
FOREIGN = ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"})


def test_a_cross_site_form_cannot_plant_an_admin_with_auth_off(
    make_live_server: Callable[..., Any], db: Session
) -> None:
    server = make_live_server()
    with httpx.Client(base_url=server.url) as http:
        for headers in FOREIGN:
            response = http.post("/admin/users/new", data=PLANTED, headers=headers)
            assert response.status_code == 403, (headers, response.text)
        assert db.scalars(select(User)).all() == []
        same_site = http.post("/admin/users/new", data=PLANTED, headers={"Origin": server.url})
        assert same_site.status_code == 303  # the dashboard's own form still works
    db.rollback()  # a fresh snapshot
    assert db.scalars(select(User.username)).all() == ["planted"]


def test_cross_site_writes_are_refused_with_any_credential(
    make_client: Callable[[Settings], TestClient],
    make_settings: Callable[..., Settings],
    make_account: Callable[..., User],
    make_api_key: Callable[..., str],
) -> None:
    client = make_client(make_settings(require_auth=True, secret_key=SECRET))
    key = make_api_key(make_account("ci", role="admin"))
    for headers in FOREIGN:
        response = client.post(
            "/api/projects", json={"name": "shop"}, headers={"X-API-Key": key, **headers}
        )
        assert response.status_code == 403, headers
        assert response.json()["code"] == "csrf_origin"
    ok = client.post("/api/projects", json={"name": "shop"}, headers={"X-API-Key": key})
    assert ok.status_code == 201


def test_turning_auth_on_reports_accounts_made_without_it(
    make_client: Callable[[Settings], TestClient],
    make_settings: Callable[..., Settings],
    db: Session,
    caplog: pytest.LogCaptureFixture,
) -> None:
    open_client = make_client(make_settings())
    assert open_client.post("/api/admin/users", json=PLANTED).status_code == 201
    caplog.set_level(logging.INFO, logger="playdeck")
    make_client(
        make_settings(
            require_auth=True,
            secret_key=SECRET,
            admin_username="boss",
            admin_password="violet tangerine hovercraft",
        )
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("while authentication was off" in w and "planted" in w for w in warnings), warnings
    assert any("no administrator 'boss' was created" in w for w in warnings), warnings
    assert db.scalars(select(User.username)).all() == ["planted"]
