"""Single sign-on links an existing account only through an email *that account* verified: an
address typed at registration, or waiting for its link, is claimed by nobody (issue 16,
self-service)."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.kit.clock import utcnow
from playdeck.models import AuditEvent, User, UserIdentity
from playdeck.settings import Settings
from tests.fixtures.accounts import create_account

from .support import sign_on

AppFactory = Callable[..., TestClient]


def _settings(app: TestClient) -> Settings:
    settings: Settings = cast(FastAPI, app.app).state.settings
    return settings


def test_an_unverified_local_email_is_not_linked_until_the_account_verifies_it(
    sso_client: AppFactory, engine: Engine, db: Session
) -> None:
    app = sso_client(provider={"link_existing_accounts": True})
    root = create_account(engine, _settings(app), "root", role="admin", email="admin@example.com")
    db.get(User, root.id).email_verified_at = None  # type: ignore[union-attr]
    db.commit()

    refused = sign_on(app, "admin")  # the provider vouches for admin@example.com
    assert refused.status_code == 409
    assert "has not verified it" in refused.text
    assert db.scalars(select(UserIdentity)).all() == []
    failure = db.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed")).one()
    assert failure.target_id == root.id
    assert failure.details == {"via": "sso:test", "reason": "local_email_unverified"}

    db.get(User, root.id).email_verified_at = utcnow()  # type: ignore[union-attr]
    db.commit()
    assert sign_on(app, "admin").status_code == 303
    db.rollback()
    assert db.scalars(select(UserIdentity)).one().user_id == root.id


def test_an_account_provisioned_by_sign_on_has_its_email_verified(
    sso_client: AppFactory, db: Session
) -> None:
    assert sign_on(sso_client(), "ada").status_code == 303
    db.rollback()
    ada = db.scalars(select(User)).one()
    assert ada.email == "ada@example.com" and ada.email_verified_at is not None
