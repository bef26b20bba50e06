"""A wrong password at a two-factor step, over the HTTP API: refused like a password change,
with one committed ``two_factor.change_failed`` event and nothing else changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from playdeck.models import User
from playdeck.twofactor import totp
from tests.auth.support import bearer, login
from tests.twofactor.support import (
    answer,
    assert_one_refusal,
    challenge,
    code_now,
    enrol,
    last_event_id,
    stored,
)

START = datetime.fromtimestamp(1_900_000_020, UTC)


def test_a_wrong_password_to_enrol_is_audited_and_stores_nothing(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    alice = make_user()
    headers = bearer(login(auth_client, "alice").access)
    before, after = stored(db), last_event_id(db)
    wrong = auth_client.post(
        "/api/auth/two-factor/enrol", json={"password": "not it"}, headers=headers
    )
    assert wrong.status_code == 403 and wrong.json()["code"] == "invalid_current_password"
    assert_one_refusal(db, after=after, user=alice, change="enrol")
    assert stored(db) == before == ([], set())


@pytest.mark.parametrize(
    ("path", "change"),
    [
        ("/api/auth/two-factor/recovery-codes", "recovery_codes"),
        ("/api/auth/two-factor/disable", "disable"),
    ],
)
def test_a_wrong_password_once_enrolled_is_audited_and_changes_nothing(
    auth_client: TestClient,
    make_user: Callable[..., User],
    db: Session,
    path: str,
    change: str,
) -> None:
    alice = make_user()
    with time_machine.travel(START, tick=False) as clock:
        secret, _codes = enrol(auth_client, "alice")
        clock.shift(timedelta(seconds=totp.STEP_SECONDS))
        token = challenge(auth_client, "alice")
        headers = bearer(answer(auth_client, token, code_now(secret)).json()["access_token"])
        before, after = stored(db), last_event_id(db)
        wrong = auth_client.post(path, json={"password": "not it"}, headers=headers)
    assert wrong.status_code == 403 and wrong.json()["code"] == "invalid_current_password"
    assert_one_refusal(db, after=after, user=alice, change=change)
    rows, codes = stored(db)
    assert (rows, codes) == before and len(rows) == 1 and len(codes) == 10
