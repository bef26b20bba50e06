"""Helpers of the two-factor tests: enrol through the API, start and finish a sign-in, read what
a refused step left behind."""

from __future__ import annotations

from typing import Any

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playdeck.audit.service import Action
from playdeck.models import AuditEvent, TwoFactorAuthenticator, TwoFactorRecoveryCode, User
from tests.auth.support import PASSWORD, bearer, login

CHALLENGE_PATH = "/api/auth/login/two-factor"


def code_now(secret: str) -> str:
    """What the authenticator app shows at the (possibly frozen) current time."""
    return pyotp.TOTP(secret).now()


def enrol(client: TestClient, username: str, password: str = PASSWORD) -> tuple[str, list[str]]:
    """Sign in with the password, turn two-factor authentication on; the secret and the
    recovery codes. The confirming code's step is used up: the next code is 30 s later."""
    headers = bearer(login(client, username, password).access)
    started = client.post(
        "/api/auth/two-factor/enrol", json={"password": password}, headers=headers
    )
    assert started.status_code == 200, started.text
    secret = str(started.json()["secret"])
    confirmed = client.post(
        "/api/auth/two-factor/confirm", json={"code": code_now(secret)}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    return secret, list(confirmed.json()["recovery_codes"])


def challenge(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """The challenge a right password earns an account with two-factor authentication on."""
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "two_factor_required"
    return str(response.json()["challenge"])


def answer(client: TestClient, token: str, code: str) -> Any:
    return client.post(CHALLENGE_PATH, json={"challenge": token, "code": code})


def stored(db: Session) -> tuple[list[tuple[Any, ...]], set[str]]:
    """Every authenticator row and recovery code hash, as committed."""
    db.rollback()
    rows = db.execute(
        select(
            TwoFactorAuthenticator.id,
            TwoFactorAuthenticator.secret_ciphertext,
            TwoFactorAuthenticator.confirmed_at,
            TwoFactorAuthenticator.last_used_step,
        )
    ).all()
    return [tuple(row) for row in rows], set(db.scalars(select(TwoFactorRecoveryCode.code_hash)))


def last_event_id(db: Session) -> int:
    db.rollback()
    return int(db.scalar(select(func.coalesce(func.max(AuditEvent.id), 0))) or 0)


def assert_one_refusal(db: Session, *, after: int, user: User, change: str) -> None:
    """Since event ``after``: exactly one refused ``two_factor.change_failed`` by ``user`` on
    their own account, naming ``change`` (committed: read in a new transaction)."""
    db.rollback()
    events = db.scalars(select(AuditEvent).where(AuditEvent.id > after)).all()
    assert [(e.action, e.outcome) for e in events] == [
        (Action.TWO_FACTOR_CHANGE_FAILED.value, "failure")
    ]
    event = events[0]
    assert (event.actor_type, event.actor_id, event.actor_name) == ("user", user.id, user.username)
    assert (event.target_type, event.target_id, event.target_name) == (
        "user",
        user.id,
        user.username,
    )
    assert event.details == {"change": change}
