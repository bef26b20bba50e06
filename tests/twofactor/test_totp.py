"""TOTP arithmetic (twofactor/totp.py): the drift window's edges, replay, the key's format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import time_machine

from playdeck.kit.clock import utcnow
from playdeck.twofactor import cipher, recovery, totp

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# A moment exactly on a step boundary: step 2_000_000 starts here.
BOUNDARY = datetime.fromtimestamp(2_000_000 * totp.STEP_SECONDS, UTC)
STEP = 2_000_000


def test_step_boundaries_fall_on_whole_thirty_seconds() -> None:
    assert totp.step_at(BOUNDARY) == STEP
    assert totp.step_at(BOUNDARY - timedelta(microseconds=1)) == STEP - 1
    assert totp.step_at(BOUNDARY + timedelta(seconds=29.999)) == STEP


def test_codes_agree_with_pyotp_at_the_frozen_time() -> None:
    with time_machine.travel(BOUNDARY + timedelta(seconds=7), tick=False):
        assert totp.code_at(SECRET, totp.step_at(utcnow())) == pyotp.TOTP(SECRET).now()


def test_one_step_of_drift_either_side_is_accepted_at_the_window_edges() -> None:
    previous, current, following = (totp.code_at(SECRET, s) for s in (STEP - 1, STEP, STEP + 1))
    # The last instant of step STEP: the previous step's code is still good, the one two steps
    # back is not; one instant later (the next step), the previous one has gone.
    last_instant = BOUNDARY + timedelta(seconds=29, microseconds=999_999)
    with time_machine.travel(last_instant, tick=False):
        now = utcnow()
        assert totp.matching_step(SECRET, previous, at=now, after=None) == STEP - 1
        assert totp.matching_step(SECRET, current, at=now, after=None) == STEP
        assert totp.matching_step(SECRET, following, at=now, after=None) == STEP + 1
    with time_machine.travel(last_instant + timedelta(microseconds=1), tick=False):
        now = utcnow()
        assert totp.step_at(now) == STEP + 1
        assert totp.matching_step(SECRET, previous, at=now, after=None) is None
        assert totp.matching_step(SECRET, current, at=now, after=None) == STEP
    # Two steps ahead of the server's clock: refused until the server catches up.
    two_ahead = totp.code_at(SECRET, STEP + 2)
    with time_machine.travel(BOUNDARY, tick=False):
        assert totp.matching_step(SECRET, two_ahead, at=utcnow(), after=None) is None
    with time_machine.travel(BOUNDARY + timedelta(seconds=30), tick=False):
        assert totp.matching_step(SECRET, two_ahead, at=utcnow(), after=None) == STEP + 2


def test_a_used_step_and_older_ones_never_match_again() -> None:
    current = totp.code_at(SECRET, STEP)
    previous = totp.code_at(SECRET, STEP - 1)
    assert totp.matching_step(SECRET, current, at=BOUNDARY, after=STEP - 1) == STEP
    assert totp.matching_step(SECRET, current, at=BOUNDARY, after=STEP) is None
    # Once a code of STEP was used, the previous step's code (still inside the drift) is stale.
    assert totp.matching_step(SECRET, previous, at=BOUNDARY, after=STEP) is None


def test_codes_are_read_the_way_people_type_them() -> None:
    code = totp.code_at(SECRET, STEP)
    for typed in (code, f"{code[:3]} {code[3:]}", f" {code[:3]}-{code[3:]} "):
        assert totp.matching_step(SECRET, typed, at=BOUNDARY, after=None) == STEP
    for wrong in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦"):
        assert totp.matching_step(SECRET, wrong, at=BOUNDARY, after=None) is None


def test_the_provisioning_uri_names_the_issuer_and_account() -> None:
    uri = totp.provisioning_uri(SECRET, account="alice")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc, parts.path) == ("otpauth", "totp", "/Playdeck:alice")
    query = parse_qs(parts.query)
    assert query["secret"] == [SECRET] and query["issuer"] == ["Playdeck"]
    assert len(totp.new_secret()) == 32 and totp.new_secret() != totp.new_secret()
    assert totp.grouped("ABCDEFGH") == "ABCD EFGH"


def test_the_secret_is_encrypted_under_the_server_secret() -> None:
    stored = cipher.Cipher("one server secret, long enough").encrypt(SECRET)
    assert SECRET not in stored
    assert cipher.Cipher("one server secret, long enough").decrypt(stored) == SECRET
    assert cipher.Cipher("another server secret entirely").decrypt(stored) is None


def test_recovery_codes_are_long_random_and_typed_loosely() -> None:
    codes = recovery.new_codes()
    assert len(codes) == recovery.COUNT == len(set(codes))
    code = codes[0]
    assert len(code) == 19 and code.count("-") == 3
    assert recovery.looks_like_recovery_code(code.upper().replace("-", " "))
    assert recovery.hash_code(code.upper()) == recovery.hash_code(code.replace("-", ""))
    assert not recovery.looks_like_recovery_code("123456")
