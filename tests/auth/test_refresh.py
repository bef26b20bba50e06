"""Refresh-token rotation with reuse detection (RFC 9700), enforced by the database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import time_machine
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from playdeck.auth import repository
from playdeck.auth.tokens import hash_secret
from playdeck.kit.clock import utcnow
from playdeck.models import AuditEvent, RefreshToken, User, UserSession
from playdeck.settings import Settings

from .support import bearer, login


def _refresh(client: TestClient, token: str) -> tuple[int, dict[str, object]]:
    response = client.post("/api/auth/refresh", json={"refresh_token": token})
    return response.status_code, response.json()


def test_refresh_token_is_single_use(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    first = login(auth_client)
    status, second = _refresh(auth_client, first.refresh)
    assert status == 200
    assert _refresh(auth_client, first.refresh)[0] == 401
    assert second["refresh_token"] != first.refresh


def test_refresh_token_reuse_revokes_the_whole_family(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user()
    stolen = login(auth_client)
    _status, legit = _refresh(auth_client, stolen.refresh)
    newest_refresh = str(legit["refresh_token"])
    newest_access = str(legit["access_token"])
    auth_client.cookies.clear()
    assert auth_client.get("/api/auth/me", headers=bearer(newest_access)).status_code == 200

    reused = auth_client.post("/api/auth/refresh", json={"refresh_token": stolen.refresh})
    assert reused.status_code == 401
    assert reused.json()["code"] == "refresh_token_reused"

    # Everything descending from that login is dead: the newest pair and the browser cookie.
    assert _refresh(auth_client, newest_refresh)[0] == 401
    assert auth_client.get("/api/auth/me", headers=bearer(newest_access)).status_code == 401
    cookie = {"Cookie": f"playdeck_session={stolen.cookie}"}
    assert auth_client.get("/api/auth/me", headers=cookie).status_code == 401
    assert db.scalar(select(func.count()).select_from(UserSession)) == 0
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "refresh_token.reused")).one()
    assert event.outcome == "failure"
    assert event.target_name == "alice"


def test_reuse_revokes_only_that_login_not_the_users_other_sessions(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    laptop = login(auth_client)
    phone = login(auth_client)
    _refresh(auth_client, laptop.refresh)
    assert _refresh(auth_client, laptop.refresh)[0] == 401
    assert _refresh(auth_client, phone.refresh)[0] == 200


def test_concurrent_refreshes_of_one_token_let_exactly_one_succeed(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    token = login(auth_client).refresh
    auth_client.cookies.clear()
    start = threading.Barrier(2)

    def attempt() -> int:
        start.wait()
        return _refresh(auth_client, token)[0]

    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(lambda _: attempt(), range(2)))
    assert statuses == [200, 401]


def test_database_lets_only_one_transaction_claim_a_refresh_token(
    auth_client: TestClient, make_user: Callable[..., User], engine: Engine
) -> None:
    """Deterministic race: the second claim waits for the first transaction, then loses."""
    make_user()
    token_hash = hash_secret(login(auth_client).refresh)
    now = utcnow()
    results: list[bool] = []
    with Session(engine) as first:
        assert repository.claim_refresh_token(first, token_hash, now=now) is True

        def second_claim() -> None:
            with Session(engine) as second:
                results.append(repository.claim_refresh_token(second, token_hash, now=now))
                second.commit()

        contender = threading.Thread(target=second_claim)
        contender.start()
        contender.join(timeout=0.5)
        assert contender.is_alive()  # blocked behind the first transaction's claim
        first.commit()
    contender.join()
    assert results == [False]


def test_grace_window_tolerates_a_benign_double_send(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    client = make_client(auth_settings(refresh_reuse_grace_seconds=10))
    make_user()
    with time_machine.travel(utcnow(), tick=False) as clock:
        token = login(client).refresh
        status, first = _refresh(client, token)
        assert status == 200
        clock.shift(timedelta(seconds=5))
        status, retry = _refresh(client, token)
        assert status == 200  # within the window: the same successor, family intact
        assert retry["refresh_token"] == first["refresh_token"]
        clock.shift(timedelta(seconds=10))
        assert _refresh(client, token)[0] == 401  # past it: reuse, family revoked
        assert _refresh(client, str(retry["refresh_token"]))[0] == 401


def test_grace_never_lets_an_older_token_fork_the_family(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
) -> None:
    client = make_client(auth_settings(refresh_reuse_grace_seconds=30))
    make_user()
    with time_machine.travel(utcnow(), tick=False):
        r1 = login(client).refresh
        client.cookies.clear()
        status, body = _refresh(client, r1)
        r2 = str(body["refresh_token"])
        status, body = _refresh(client, r2)
        r3 = str(body["refresh_token"])
        client_tokens = [r1, r2, r3]
        status, replay = _refresh(client, r1)  # not the head's predecessor: theft
        assert status == 401
        assert replay["code"] == "refresh_token_reused"
        assert _refresh(client, r3)[0] == 401  # the whole family is gone
    assert len(set(client_tokens)) == 3


def test_concurrent_refreshes_within_the_grace_share_one_successor(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
    db: Session,
) -> None:
    client = make_client(auth_settings(refresh_reuse_grace_seconds=30))
    make_user()
    token = login(client).refresh
    client.cookies.clear()
    start = threading.Barrier(10)

    def attempt() -> tuple[int, dict[str, object]]:
        start.wait()
        return _refresh(client, token)

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda _: attempt(), range(10)))
    successors = {str(body["refresh_token"]) for status, body in results if status == 200}
    assert len(successors) == 1, results
    assert db.scalar(select(func.count()).select_from(RefreshToken)) == 2  # no new branch
    (successor,) = successors
    assert _refresh(client, successor)[0] == 200


def test_refresh_token_expires_after_its_lifetime(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    with time_machine.travel(utcnow(), tick=False) as clock:
        token = login(auth_client).refresh
        clock.shift(timedelta(days=7, seconds=1))
        status, body = _refresh(auth_client, token)
        assert status == 401
        assert body["code"] == "invalid_refresh_token"


def test_refreshing_never_extends_a_family_past_its_lifetime_from_sign_in(
    auth_client: TestClient, make_user: Callable[..., User]
) -> None:
    make_user()
    with time_machine.travel(utcnow(), tick=False) as clock:
        token = login(auth_client).refresh
        auth_client.cookies.clear()
        for _ in range(7 * 24 - 1):  # refreshed hourly for a week
            clock.shift(timedelta(hours=1))
            status, body = _refresh(auth_client, token)
            assert status == 200, body
            token = str(body["refresh_token"])
        assert int(str(body["refresh_expires_in"])) == 3600
        clock.shift(timedelta(hours=1, seconds=1))  # login + 7 d + 1 s
        assert _refresh(auth_client, token)[0] == 401
        for days in (8, 14):
            clock.shift(timedelta(days=days - 7))
            assert _refresh(auth_client, token)[0] == 401


def test_unknown_refresh_token_is_401_and_only_hashes_are_stored(
    auth_client: TestClient, make_user: Callable[..., User], db: Session
) -> None:
    make_user()
    issued = login(auth_client).refresh
    assert _refresh(auth_client, "pdr_not-a-real-token")[0] == 401
    stored = db.scalars(select(RefreshToken.token_hash)).all()
    assert stored == [hash_secret(issued)]
    assert issued not in stored
