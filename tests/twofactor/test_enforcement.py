"""PLAYDECK_REQUIRE_TWO_FACTOR_FOR_ADMINS over HTTP, the administrators' reset (API, page and
CLI), and what the account API refuses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from click.testing import Result
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.models import AuditEvent, User
from playdeck.settings import Settings
from playdeck.twofactor import totp
from tests.auth.support import PASSWORD, bearer, login
from tests.twofactor.support import answer, challenge, code_now, enrol

START = datetime.fromtimestamp(1_900_000_020, UTC)


@pytest.fixture
def strict_client(
    make_client: Callable[[Settings], TestClient], auth_settings: Callable[..., Settings]
) -> TestClient:
    return make_client(auth_settings(require_two_factor_for_admins=True))


def test_an_admin_without_a_second_factor_may_only_enrol(
    strict_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("root", role="admin")
    with time_machine.travel(START, tick=False):
        headers = bearer(login(strict_client, "root").access)
        refused = strict_client.get("/api/projects", headers=headers)
        assert refused.status_code == 403
        assert refused.json()["code"] == "two_factor_enrolment_required"
        assert "/api/auth/two-factor/enrol" in refused.json()["detail"]
        assert strict_client.get("/api/admin/users", headers=headers).status_code == 403
        me = strict_client.get("/api/auth/me", headers=headers)
        assert me.status_code == 200 and me.json()["two_factor_enrolment_required"] is True
        state = strict_client.get("/api/auth/two-factor", headers=headers).json()
        assert state["required"] is True and state["enabled"] is False

        started = strict_client.post(
            "/api/auth/two-factor/enrol", json={"password": PASSWORD}, headers=headers
        )
        assert strict_client.get("/api/projects", headers=headers).status_code == 403
        confirmed = strict_client.post(
            "/api/auth/two-factor/confirm",
            json={"code": code_now(started.json()["secret"])},
            headers=headers,
        )
        assert confirmed.status_code == 200
        # The same session, now enrolled: everything else opens.
        assert strict_client.get("/api/projects", headers=headers).status_code == 200
        me = strict_client.get("/api/auth/me", headers=headers)
        assert me.json()["two_factor_enrolment_required"] is False


def test_the_rule_spares_other_users_and_api_keys(
    strict_client: TestClient,
    make_user: Callable[..., User],
    make_api_key: Callable[..., str],
) -> None:
    root = make_user("root", role="admin")
    make_user("alice")
    alice = bearer(login(strict_client, "alice").access)
    assert strict_client.get("/api/projects", headers=alice).status_code == 200
    key = make_api_key(root)
    assert strict_client.get("/api/projects", headers={"X-API-Key": key}).status_code == 200


def test_a_browser_is_sent_to_enrolment_from_any_page(
    strict_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user("root", role="admin")
    strict_client.cookies.set("playdeck_session", login(strict_client, "root").cookie)
    page = strict_client.get("/projects", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/account/two-factor"
    enrolment = strict_client.get("/account/two-factor", headers={"accept": "text/html"})
    assert enrolment.status_code == 200
    assert "requires administrators to use two-factor" in enrolment.text


def test_an_admin_resets_a_users_second_factor_and_it_is_audited(
    auth_client: TestClient, make_user: Callable[..., User], engine: Engine
) -> None:
    alice = make_user()
    make_user("root", role="admin")
    make_user("bob")
    enrol(auth_client, "alice")
    challenge(auth_client, "alice")  # the password alone no longer signs alice in
    admin = bearer(login(auth_client, "root").access)
    bob = bearer(login(auth_client, "bob").access)
    denied = auth_client.delete(f"/api/admin/users/{alice.id}/two-factor", headers=bob)
    assert denied.status_code == 403
    reset = auth_client.delete(f"/api/admin/users/{alice.id}/two-factor", headers=admin)
    assert reset.status_code == 204
    assert login(auth_client, "alice").body["user"]["username"] == "alice"  # password alone
    with Session(engine) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "two_factor.reset")
        ).one()
    assert event.actor_name == "root" and event.target_id == alice.id
    assert (
        auth_client.delete("/api/admin/users/999999/two-factor", headers=admin).status_code == 404
    )


def test_the_cli_resets_a_second_factor(
    auth_client: TestClient,
    make_user: Callable[..., User],
    run_cli: Callable[..., Result],
) -> None:
    make_user()
    enrol(auth_client, "alice")
    result = run_cli("users", "reset-two-factor", "alice")
    assert result.exit_code == 0, result.output
    assert "removed" in result.output
    assert login(auth_client, "alice").body["user"]["username"] == "alice"
    again = run_cli("users", "reset-two-factor", "alice")
    assert "nothing to remove" in again.output
    assert run_cli("users", "reset-two-factor", "nobody").exit_code == 1


def test_managing_it_needs_a_password_sign_in_and_the_password(
    auth_client: TestClient, make_user: Callable[..., User], make_api_key: Callable[..., str]
) -> None:
    alice = make_user()
    key = {"X-API-Key": make_api_key(alice)}
    by_key = auth_client.post(
        "/api/auth/two-factor/enrol", json={"password": PASSWORD}, headers=key
    )
    assert by_key.status_code == 403 and by_key.json()["code"] == "password_login_required"
    headers = bearer(login(auth_client, "alice").access)
    wrong = auth_client.post(
        "/api/auth/two-factor/enrol", json={"password": "not it"}, headers=headers
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "invalid_current_password"
    nothing = auth_client.post(
        "/api/auth/two-factor/confirm", json={"code": "123456"}, headers=headers
    )
    assert nothing.status_code == 409
    with time_machine.travel(START, tick=False) as clock:
        secret, _codes = enrol(auth_client, "alice")
        clock.shift(timedelta(seconds=totp.STEP_SECONDS))
        token = challenge(auth_client, "alice")
        headers = bearer(answer(auth_client, token, code_now(secret)).json()["access_token"])
        twice = auth_client.post(
            "/api/auth/two-factor/enrol", json={"password": PASSWORD}, headers=headers
        )
        assert twice.status_code == 409 and twice.json()["code"] == "two_factor_already_enabled"
        off = auth_client.post(
            "/api/auth/two-factor/disable", json={"password": PASSWORD}, headers=headers
        )
        assert off.status_code == 204
        assert login(auth_client, "alice").body["user"]["username"] == "alice"
