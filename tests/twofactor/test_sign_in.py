"""Signing in with a second factor over the JWT login API: the challenge, codes at the window's
edges, replay, recovery codes, and the lockout and rate limits a wrong code counts toward."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from playdeck.models import AuditEvent, TwoFactorChallenge, User, UserSession
from playdeck.settings import Settings
from playdeck.twofactor import totp
from playdeck.twofactor.challenges import CHALLENGE_SECONDS
from tests.auth.support import PASSWORD, bearer
from tests.twofactor.support import answer, challenge, code_now, enrol

# On a step boundary, so the tests know exactly which codes are current.
START = datetime.fromtimestamp(1_900_000_020, UTC)


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
            )
        )


def _sessions(engine: Engine, user_id: int) -> int:
    with Session(engine) as session:
        return len(session.scalars(select(UserSession).where(UserSession.user_id == user_id)).all())


def test_a_right_password_earns_a_challenge_not_a_session(
    auth_client: TestClient, make_user: Callable[..., User], engine: Engine
) -> None:
    alice = make_user()
    with time_machine.travel(START, tick=False) as clock:
        secret, _codes = enrol(auth_client, "alice")
        auth_client.cookies.clear()
        sessions_before = _sessions(engine, alice.id)
        response = auth_client.post(
            "/api/auth/login", json={"username": "alice", "password": PASSWORD}
        )
        assert response.status_code == 401
        body = response.json()
        assert body["code"] == "two_factor_required"
        assert body["challenge"].startswith("pdc_")
        assert body["challenge_expires_in"] == CHALLENGE_SECONDS
        assert body["two_factor_path"] == "/api/auth/login/two-factor"
        assert "access_token" not in body and "playdeck_session" not in response.cookies
        assert response.headers["cache-control"] == "no-store"
        assert _sessions(engine, alice.id) == sessions_before
        with Session(engine) as session:  # stored as a hash only
            stored = session.scalars(select(TwoFactorChallenge.token_hash)).all()
        assert body["challenge"] not in stored and len(stored) == 1

        clock.shift(timedelta(seconds=totp.STEP_SECONDS))
        signed_in = answer(auth_client, body["challenge"], code_now(secret))
        assert signed_in.status_code == 200, signed_in.text
        assert signed_in.json()["user"]["username"] == "alice"
        assert signed_in.cookies.get("playdeck_session")
        me = auth_client.get("/api/auth/me", headers=bearer(signed_in.json()["access_token"]))
        assert me.json()["authenticated"] is True
    success = _events(engine, "login.succeeded")[-1]
    assert success.details["second_factor"] == "totp"


def test_wrong_and_right_passwords_of_a_two_factor_account_still_differ_only_after_hashing(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    enrol(auth_client, "alice")
    wrong = auth_client.post("/api/auth/login", json={"username": "alice", "password": "no no no"})
    unknown = auth_client.post(
        "/api/auth/login", json={"username": "nobody", "password": "no no no"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["code"] == "invalid_credentials"


def test_a_code_is_accepted_one_step_either_side_and_not_two(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    with time_machine.travel(START, tick=False) as clock:
        secret, _codes = enrol(auth_client, "alice")
        confirmed_step = totp.step_at(START)
        # Two steps later the server is at confirmed+2: the code of confirmed+1 (a phone 30 s
        # behind) is accepted, confirmed+4 (60 s ahead) is not, confirmed+3 (30 s ahead) is.
        clock.shift(timedelta(seconds=2 * totp.STEP_SECONDS + 29))
        behind = totp.code_at(secret, confirmed_step + 1)
        far_ahead = totp.code_at(secret, confirmed_step + 4)
        ahead = totp.code_at(secret, confirmed_step + 3)
        token = challenge(auth_client, "alice")
        assert answer(auth_client, token, far_ahead).json()["code"] == "invalid_two_factor_code"
        assert answer(auth_client, token, behind).status_code == 200
        token = challenge(auth_client, "alice")
        assert answer(auth_client, token, ahead).status_code == 200


def test_a_replayed_code_is_refused_and_counts_as_a_failure(
    auth_client: TestClient, make_user: Callable[..., User], engine: Engine
) -> None:
    alice = make_user()
    with time_machine.travel(START, tick=False) as clock:
        secret, _codes = enrol(auth_client, "alice")
        # The confirming code itself cannot sign in: its step is used.
        replayed = answer(auth_client, challenge(auth_client, "alice"), code_now(secret))
        assert replayed.status_code == 401
        assert replayed.json()["code"] == "invalid_two_factor_code"
        clock.shift(timedelta(seconds=totp.STEP_SECONDS))
        code = code_now(secret)
        assert answer(auth_client, challenge(auth_client, "alice"), code).status_code == 200
        again = answer(auth_client, challenge(auth_client, "alice"), code)
        assert again.status_code == 401 and again.json()["code"] == "invalid_two_factor_code"
    with Session(engine) as session:
        user = session.get(User, alice.id)
        assert user is not None and user.failed_login_attempts == 1
    failures = _events(engine, "login.failed")
    assert [e.details["reason"] for e in failures] == ["wrong_code", "wrong_code"]


def test_a_challenge_signs_in_once_and_expires(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    with time_machine.travel(START, tick=False) as clock:
        secret, _codes = enrol(auth_client, "alice")
        clock.shift(timedelta(seconds=totp.STEP_SECONDS))
        token = challenge(auth_client, "alice")
        assert answer(auth_client, token, code_now(secret)).status_code == 200
        clock.shift(timedelta(seconds=totp.STEP_SECONDS))
        used = answer(auth_client, token, code_now(secret))
        assert used.status_code == 401
        assert used.json()["code"] == "two_factor_challenge_invalid"

        token = challenge(auth_client, "alice")
        clock.shift(timedelta(seconds=CHALLENGE_SECONDS))
        expired = answer(auth_client, token, code_now(secret))
        assert expired.json()["code"] == "two_factor_challenge_invalid"
    unknown = answer(auth_client, "pdc_" + "x" * 43, "123456")
    assert unknown.status_code == 401
    assert unknown.json()["code"] == "two_factor_challenge_invalid"


def test_wrong_codes_lock_the_account_and_the_password_does_not_reset_the_count(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
    engine: Engine,
) -> None:
    client = make_client(auth_settings(lockout_attempts=3))
    make_user()
    with time_machine.travel(START, tick=False) as clock:
        secret, _codes = enrol(client, "alice")
        clock.shift(timedelta(seconds=totp.STEP_SECONDS))
        # Each wrong code with a fresh challenge (the password typed again each time).
        for _ in range(2):
            wrong = answer(client, challenge(client, "alice"), "000000")
            assert wrong.status_code == 401
        locked = answer(client, challenge(client, "alice"), "000000")
        assert locked.status_code == 401  # the third failure sets the lock...
        after = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
        assert after.status_code == 423  # ...and from then on the password step refuses too
        assert "retry-after" in after.headers
        assert _events(engine, "login.locked_out")[-1].details["failures"] == 3
        # A challenge earned before the lock cannot get round it, even with the right code.
        clock.shift(timedelta(minutes=15, seconds=1))
        token = challenge(client, "alice")
        with Session(engine) as session:
            session.execute(update(User).values(locked_until=START + timedelta(hours=1)))
            session.commit()
        blocked = answer(client, token, code_now(secret))
        assert blocked.status_code == 423


def test_the_login_rate_limit_counts_second_factor_attempts(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    client = make_client(auth_settings(login_rate_limit="4/minute", lockout_attempts=50))
    make_user()
    with time_machine.travel(START, tick=False):
        enrol(client, "alice")  # one login
        token = challenge(client, "alice")  # two
        assert answer(client, token, "000000").status_code == 401  # three
        assert answer(client, token, "000000").status_code == 401  # four
        limited = answer(client, token, "000000")
        assert limited.status_code == 429
        assert "retry-after" in limited.headers


def test_a_recovery_code_signs_in_once_and_is_audited(
    auth_client: TestClient, make_user: Callable[..., User], engine: Engine
) -> None:
    make_user()
    _secret, codes = enrol(auth_client, "alice")
    signed_in = answer(auth_client, challenge(auth_client, "alice"), codes[0].upper())
    assert signed_in.status_code == 200, signed_in.text
    again = answer(auth_client, challenge(auth_client, "alice"), codes[0])
    assert again.status_code == 401 and again.json()["code"] == "invalid_two_factor_code"
    used = _events(engine, "two_factor.recovery_code_used")
    assert len(used) == 1 and used[0].details == {"recovery_codes_left": 9}
    assert _events(engine, "login.succeeded")[-1].details["second_factor"] == "recovery_code"
    status = auth_client.get(
        "/api/auth/two-factor", headers=bearer(signed_in.json()["access_token"])
    )
    assert status.json()["recovery_codes_left"] == 9
