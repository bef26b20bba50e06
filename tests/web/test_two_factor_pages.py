"""The two-factor pages: the sign-in form's second step, ``/account/two-factor``, and an
administrator's reset from the users list."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.models import AuditEvent, User
from playdeck.settings import Settings
from playdeck.twofactor import totp
from tests.twofactor.support import assert_one_refusal, code_now, enrol, last_event_id, stored

from .conftest import HTML, parse
from .identity_support import (
    PASSWORD,
    auth_overrides,
    create_user,
    hidden_value,
    post_login,
    sign_in,
)

START = datetime.fromtimestamp(1_900_000_020, UTC)


@pytest.fixture
def auth_client(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> TestClient:
    return make_client(make_settings(**auth_overrides()))


@pytest.fixture
def alice(engine: Engine, settings: Settings) -> User:
    return create_user(engine, settings, "alice")


def _code_form(
    client: TestClient, challenge: str, code: str, *, token: str, next_path: str = ""
) -> httpx.Response:
    response: httpx.Response = client.post(
        "/login/two-factor",
        data={"challenge": challenge, "code": code, "csrf_token": token, "next": next_path},
        headers=HTML,
        follow_redirects=False,
    )
    return response


def _element_text(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert found, element_id
    return found.group(1)


def test_signing_in_through_the_forms_asks_for_a_code(auth_client: TestClient, alice: User) -> None:
    with time_machine.travel(START, tick=False) as clock:
        secret, _codes = enrol(auth_client, "alice")
        auth_client.cookies.clear()
        clock.shift(timedelta(seconds=totp.STEP_SECONDS))
        first = post_login(auth_client, next_path="/projects")
        assert first.status_code == 200
        assert "playdeck_session" not in first.cookies
        page = parse(first.text)
        assert page.all("form", action="/login/two-factor")
        challenge = hidden_value(first.text, "challenge")
        token = hidden_value(first.text)
        assert hidden_value(first.text, "next") == "/projects"

        wrong = _code_form(auth_client, challenge, "000000", token=token, next_path="/projects")
        assert wrong.status_code == 401
        assert "Invalid two-factor code" in wrong.text
        # The same challenge is offered again, with a fresh form token.
        assert hidden_value(wrong.text, "challenge") == challenge
        token = hidden_value(wrong.text)

        right = _code_form(
            auth_client, challenge, code_now(secret), token=token, next_path="/projects"
        )
        assert right.status_code == 303
        assert right.headers["location"] == "/projects"
        assert auth_client.get("/account", headers=HTML).status_code == 200


def test_the_code_form_refuses_without_its_form_token(auth_client: TestClient, alice: User) -> None:
    enrol(auth_client, "alice")
    auth_client.cookies.clear()
    first = post_login(auth_client)
    challenge = hidden_value(first.text, "challenge")
    refused = _code_form(auth_client, challenge, "123456", token="forged")
    assert refused.status_code == 403


def test_turning_it_on_and_off_on_the_account_page(
    auth_client: TestClient, alice: User, engine: Engine
) -> None:
    with time_machine.travel(START, tick=False):
        token = sign_in(auth_client)
        account = auth_client.get("/account", headers=HTML)
        assert "/account/two-factor" in parse(account.text).links()
        assert "a lost phone. Off. Manage two-factor" in parse(account.text).text
        off = auth_client.get("/account/two-factor", headers=HTML)
        assert parse(off.text).all("section", id="two-factor-off")

        wrong = auth_client.post(
            "/account/two-factor/enrol",
            data={"password": "not mine", "csrf_token": token},
            headers=HTML,
        )
        assert wrong.status_code == 403 and "Current password is incorrect" in wrong.text
        started = auth_client.post(
            "/account/two-factor/enrol",
            data={"password": PASSWORD, "csrf_token": token},
            headers=HTML,
            follow_redirects=False,
        )
        assert started.status_code == 303
        pending = auth_client.get("/account/two-factor", headers=HTML)
        key = _element_text(pending.text, "two-factor-key").replace(" ", "")
        uri = _element_text(pending.text, "two-factor-uri").replace("&amp;", "&")
        assert uri.startswith("otpauth://totp/Playdeck:alice?") and f"secret={key}" in uri

        confirmed = auth_client.post(
            "/account/two-factor/confirm",
            data={"code": code_now(key), "csrf_token": token},
            headers=HTML,
        )
        assert confirmed.status_code == 200
        codes = re.findall(r"<li><code>([a-z2-7-]{19})</code></li>", confirmed.text)
        assert len(codes) == 10
        assert confirmed.headers["cache-control"] == "no-store"
        on = auth_client.get("/account/two-factor", headers=HTML)
        assert _element_text(on.text, "recovery-codes-left") == "10"
        account = auth_client.get("/account", headers=HTML)
        assert "On. 10 recovery codes left." in parse(account.text).text
        assert key not in on.text.replace(" ", "") and codes[0] not in on.text

        renewed = auth_client.post(
            "/account/two-factor/recovery-codes",
            data={"password": PASSWORD, "csrf_token": token},
            headers=HTML,
        )
        assert renewed.status_code == 200 and renewed.headers["cache-control"] == "no-store"
        new_codes = re.findall(r"<li><code>([a-z2-7-]{19})</code></li>", renewed.text)
        assert len(new_codes) == 10 and not set(new_codes) & set(codes)

        disabled = auth_client.post(
            "/account/two-factor/disable",
            data={"password": PASSWORD, "csrf_token": token},
            headers=HTML,
            follow_redirects=False,
        )
        assert disabled.status_code == 303
    with Session(engine) as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert "two_factor.enabled" in actions and actions[-1] == "two_factor.disabled"


def test_an_administrator_resets_a_second_factor_from_the_users_list(
    auth_client: TestClient, alice: User, engine: Engine, settings: Settings
) -> None:
    create_user(engine, settings, "root", role="admin")
    enrol(auth_client, "alice")
    auth_client.cookies.clear()
    token = sign_in(auth_client, "root")
    users = auth_client.get("/admin/users", headers=HTML)
    assert f"/admin/users/{alice.id}/two-factor/reset?back=" in users.text
    confirm = auth_client.get(f"/admin/users/{alice.id}/two-factor/reset", headers=HTML)
    assert confirm.status_code == 200 and "authenticator app and recovery codes" in confirm.text
    reset = auth_client.post(
        f"/admin/users/{alice.id}/two-factor/reset",
        data={"csrf_token": token},
        headers=HTML,
        follow_redirects=False,
    )
    assert reset.status_code == 303
    with Session(engine) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "two_factor.reset")
        ).one()
    assert event.actor_name == "root" and event.target_id == alice.id


def test_a_held_administrator_signing_in_lands_on_enrolment_whatever_next_says(
    make_client: Callable[[Settings], TestClient],
    make_settings: Callable[..., Settings],
    engine: Engine,
    settings: Settings,
) -> None:
    client = make_client(make_settings(**auth_overrides(require_two_factor_for_admins=True)))
    create_user(engine, settings, "root", role="admin")
    create_user(engine, settings, "alice")
    held = post_login(client, "root", next_path="/projects")
    assert held.status_code == 303 and held.headers["location"] == "/account/two-factor"
    client.cookies.clear()
    free = post_login(client, "alice", next_path="/projects")
    assert free.status_code == 303 and free.headers["location"] == "/projects"


def test_a_wrong_password_on_the_account_page_is_audited_and_changes_nothing(
    auth_client: TestClient, alice: User, db: Session
) -> None:
    def post(step: str, **form: str) -> httpx.Response:
        response: httpx.Response = auth_client.post(
            f"/account/two-factor/{step}",
            data={"csrf_token": token, **form},
            headers=HTML,
            follow_redirects=False,
        )
        return response

    def refused(step: str, change: str) -> None:
        before, after = stored(db), last_event_id(db)
        wrong = post(step, password="not mine")
        assert wrong.status_code == 403 and "Current password is incorrect" in wrong.text
        assert_one_refusal(db, after=after, user=alice, change=change)
        assert stored(db) == before

    with time_machine.travel(START, tick=False):
        token = sign_in(auth_client)
        refused("enrol", "enrol")
        assert stored(db) == ([], set())
        assert post("enrol", password=PASSWORD).status_code == 303
        pending = auth_client.get("/account/two-factor", headers=HTML)
        key = _element_text(pending.text, "two-factor-key").replace(" ", "")
        confirmed = post("confirm", code=code_now(key))
        assert confirmed.status_code == 200
        refused("recovery-codes", "recovery_codes")
        refused("disable", "disable")
    rows, codes = stored(db)
    assert len(rows) == 1 and rows[0][2] is not None and len(codes) == 10
