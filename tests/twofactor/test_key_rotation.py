"""Rotating PLAYDECK_SECRET_KEY with the old key in PLAYDECK_PREVIOUS_SECRET_KEYS: enrolled
authenticators keep working, and each secret moves to the new key the first time it signs in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.models import TwoFactorAuthenticator, User
from playdeck.settings import Settings
from playdeck.twofactor import cipher, totp
from tests.auth.support import PASSWORD, bearer, login
from tests.fixtures.accounts import SECRET as KEY_A
from tests.twofactor.support import answer, challenge, code_now, enrol

KEY_B = "the rotated server secret, 0123456789abcdef"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
START = datetime.fromtimestamp(1_900_000_020, UTC)


def _ciphertext(engine: Engine) -> str:
    with Session(engine) as session:
        return session.scalars(select(TwoFactorAuthenticator.secret_ciphertext)).one()


@dataclass
class Rotation:
    """Alice enrolled under key A, the clock stopped; servers under key B to sign in to."""

    secret: str
    under_a: str
    clock: time_machine.Traveller
    make_client: Callable[[Settings], TestClient]
    auth_settings: Callable[..., Settings]
    engine: Engine

    def server(self, *previous: str) -> TestClient:
        return self.make_client(
            self.auth_settings(secret=KEY_B, previous_secret_keys=list(previous))
        )

    def sign_in(self, server: TestClient, code: str | None = None) -> Response:
        """Alice's password, then the code her app shows a step later (or ``code``)."""
        self.clock.shift(timedelta(seconds=totp.STEP_SECONDS))
        response: Response = answer(
            server, challenge(server, "alice"), code or code_now(self.secret)
        )
        return response

    def stored(self) -> str:
        return _ciphertext(self.engine)


@pytest.fixture
def rotation(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
    engine: Engine,
) -> Iterator[Rotation]:
    make_user()
    with time_machine.travel(START, tick=False) as clock:
        secret, _codes = enrol(make_client(auth_settings()), "alice")
        yield Rotation(secret, _ciphertext(engine), clock, make_client, auth_settings, engine)


def test_a_previous_key_decrypts_and_only_the_current_one_encrypts() -> None:
    under_a = cipher.Cipher(KEY_A).encrypt(SECRET)
    rotated = cipher.Cipher(KEY_B, (KEY_A,))
    assert rotated.open(under_a) == cipher.Opened(SECRET, stale=True)
    under_b = rotated.encrypt(SECRET)
    assert rotated.open(under_b) == cipher.Opened(SECRET, stale=False)
    assert cipher.Cipher(KEY_B).decrypt(under_b) == SECRET
    assert cipher.Cipher(KEY_A).decrypt(under_b) is None
    assert cipher.Cipher(KEY_B).open(under_a) is None


def test_an_authenticator_enrolled_under_the_old_key_signs_in_and_moves_to_the_new_key(
    rotation: Rotation,
) -> None:
    assert rotation.sign_in(rotation.server(KEY_A)).status_code == 200
    under_b = rotation.stored()
    assert under_b != rotation.under_a
    assert cipher.Cipher(KEY_B).decrypt(under_b) == rotation.secret
    # The old key retired: the authenticator still works, the sign-in moved it to key B.
    assert rotation.sign_in(rotation.server()).status_code == 200


def test_without_the_old_key_listed_the_enrolled_authenticator_is_refused(
    rotation: Rotation,
) -> None:
    refused = rotation.sign_in(rotation.server())
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_two_factor_code"
    assert rotation.stored() == rotation.under_a


def test_a_wrong_code_under_the_old_key_does_not_move_the_secret(rotation: Rotation) -> None:
    assert rotation.sign_in(rotation.server(KEY_A), "000000").status_code == 401
    assert rotation.stored() == rotation.under_a


@pytest.mark.parametrize("previous", [[KEY_A], []])
def test_an_enrolment_started_before_the_rotation_is_confirmed_under_the_new_key(
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_user: Callable[..., User],
    engine: Engine,
    previous: list[str],
) -> None:
    make_user()
    before = make_client(auth_settings())
    started = before.post(
        "/api/auth/two-factor/enrol",
        json={"password": PASSWORD},
        headers=bearer(login(before, "alice").access),
    )
    secret = str(started.json()["secret"])
    rotated = make_client(auth_settings(secret=KEY_B, previous_secret_keys=previous))
    confirmed = rotated.post(
        "/api/auth/two-factor/confirm",
        json={"code": code_now(secret)},
        headers=bearer(login(rotated, "alice").access),
    )
    if not previous:
        assert confirmed.status_code == 422
        return
    assert confirmed.status_code == 200, confirmed.text
    assert cipher.Cipher(KEY_B).decrypt(_ciphertext(engine)) == secret
