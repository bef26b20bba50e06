"""PLAYDECK_REQUIRE_TWO_FACTOR_FOR_ADMINS leaves single sign-on alone: an administrator who signs
on through the provider is not held to enrolling a Playdeck second factor (the provider's MFA is
theirs; docs/security.md, "Two-factor authentication")."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from .support import sign_on


def test_an_administrator_signed_on_through_the_provider_is_not_held_to_enrolment(
    sso_client: Callable[..., TestClient],
) -> None:
    app = sso_client(require_two_factor_for_admins=True)
    assert sign_on(app, "admin").status_code == 303
    me = app.get("/api/auth/me").json()
    assert me["role"] == "admin" and me["two_factor_enrolment_required"] is False
    assert app.get("/api/admin/users").status_code == 200
