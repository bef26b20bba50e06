"""``playdeck two-factor rekey``: every stored TOTP secret moved to the current secret key at
once, with counts of what it did and could not do, and an audit event."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import Result

from playdeck.models import AuditEvent, TwoFactorAuthenticator, User
from playdeck.settings import Settings
from playdeck.twofactor.cipher import Cipher
from tests.fixtures.accounts import PASSWORD
from tests.fixtures.accounts import SECRET as KEY_A
from tests.twofactor.support import enrol

KEY_B = "the rotated server secret, 0123456789abcdef"
KEY_LOST = "a key nobody kept any more, 0123456789abcdef"


def _ciphertexts(engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        rows = session.execute(
            select(User.username, TwoFactorAuthenticator.secret_ciphertext).join(
                TwoFactorAuthenticator, TwoFactorAuthenticator.user_id == User.id
            )
        )
        return {username: ciphertext for username, ciphertext in rows}


def _rekey_events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "two_factor.rekeyed")
                .order_by(AuditEvent.id)
            )
        )


def test_rekey_moves_old_secrets_counts_current_ones_and_names_the_undecryptable(
    run_cli: Callable[..., Result],
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
    make_account: Callable[..., User],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("alice", "bob", "carol"):
        make_account(name, role="user", password=PASSWORD)
    secrets = {
        "alice": enrol(make_client(auth_settings()), "alice")[0],  # under the retired key A
        "bob": enrol(make_client(auth_settings(secret=KEY_B)), "bob")[0],  # already under B
        "carol": enrol(make_client(auth_settings(secret=KEY_LOST)), "carol")[0],
    }
    before = _ciphertexts(engine)
    monkeypatch.setenv("PLAYDECK_SECRET_KEY", KEY_B)
    monkeypatch.setenv("PLAYDECK_PREVIOUS_SECRET_KEYS", KEY_A)

    result = run_cli("two-factor", "rekey")

    assert result.exit_code == 1, result.output
    assert "re-encrypted under the current key: 1" in result.output
    assert "already under the current key: 1" in result.output
    assert "not decryptable under any key: 1" in result.output
    assert "'carol'" in result.output and "reset-two-factor" in result.output
    for key in (KEY_A, KEY_B):
        assert key not in result.output
    after = _ciphertexts(engine)
    only_b = Cipher(KEY_B)
    assert after["alice"] != before["alice"]
    assert only_b.decrypt(after["alice"]) == secrets["alice"]
    assert after["bob"] == before["bob"] and after["carol"] == before["carol"]
    assert only_b.decrypt(after["carol"]) is None
    [event] = _rekey_events(engine)
    assert (event.actor_type, event.outcome) == ("system", "success")
    assert (event.actor_name or "").startswith("cli:")
    assert event.details == {
        "reencrypted": 1,
        "already_current": 1,
        "undecryptable": 1,
        "undecryptable_users": ["carol"],
    }

    # Carol reset, the old key no longer listed: everything is current, nothing left to do.
    assert run_cli("users", "reset-two-factor", "carol").exit_code == 0
    monkeypatch.delenv("PLAYDECK_PREVIOUS_SECRET_KEYS")
    again = run_cli("two-factor", "rekey")
    assert again.exit_code == 0, again.output
    assert "re-encrypted under the current key: 0" in again.output
    assert "already under the current key: 2" in again.output
    assert "not decryptable under any key: 0" in again.output
    assert _rekey_events(engine)[-1].details["already_current"] == 2


def test_rekey_without_a_secret_key_says_so(
    run_cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PLAYDECK_SECRET_KEY", "JWT_SECRET_KEY", "NUXT_AUTH_SECRET"):
        monkeypatch.delenv(name, raising=False)
    result = run_cli("two-factor", "rekey")
    assert result.exit_code == 1
    assert "PLAYDECK_SECRET_KEY is not set" in result.output
