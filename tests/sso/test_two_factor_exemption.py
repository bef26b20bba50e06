"""PLAYDECK_REQUIRE_TWO_FACTOR_FOR_ADMINS leaves single sign-on alone: an administrator who signs
on through the provider is not held to enrolling a Playdeck second factor (the provider's MFA is
theirs; docs/security.md, "Two-factor authentication")."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from playdeck.auth.passwords import hash_password
from playdeck.models import User

from .support import sign_on

PASSWORD = "violet tangerine hovercraft"


def test_an_administrator_signed_on_through_the_provider_is_not_held_to_enrolment(
    sso_client: Callable[..., TestClient], engine: Engine
) -> None:
    app = sso_client(require_two_factor_for_admins=True)
    assert sign_on(app, "admin").status_code == 303
    # The same account also has a password (a linked local account): the rule covers it...
    with Session(engine) as session:
        session.execute(
            update(User)
            .where(User.username == "admin")
            .values(password_hash=hash_password(PASSWORD))
        )
        session.commit()
    by_password = sso_client(require_two_factor_for_admins=True)
    login = by_password.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
    assert login.status_code == 200, login.text
    held = by_password.get("/api/admin/users")
    assert (held.status_code, held.json()["code"]) == (403, "two_factor_enrolment_required")

    # ... but not its sessions that came through the provider.
    by_provider = sso_client(require_two_factor_for_admins=True)
    assert sign_on(by_provider, "admin").status_code == 303
    me = by_provider.get("/api/auth/me").json()
    assert me["role"] == "admin" and me["two_factor_enrolment_required"] is False
    assert by_provider.get("/api/admin/users").status_code == 200
