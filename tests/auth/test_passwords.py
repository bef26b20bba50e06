"""Hashing and the password policy, as plain functions. Hashing is tested with production's
argon2id parameters (the rest of the suite signs in with cheap ones)."""

from __future__ import annotations

import subprocess
import sys

import bcrypt
import pytest
from argon2 import PasswordHasher

from playdeck.auth.passwords import (
    ARGON2_PARAMETERS,
    Argon2Parameters,
    argon2_parameters,
    hash_password,
    verify_and_update,
    verify_dummy,
)
from playdeck.auth.policy import MAX_PASSWORD_BYTES, check_password_policy, common_passwords
from playdeck.errors import InvalidInput

pytestmark = pytest.mark.usefixtures("production_password_hashing")

PRODUCTION_PREFIX = "$argon2id$v=19$m=19456,t=2,p=1$"

NUXT_HASH = (
    "0123456789abcdef0123456789abcdef:"
    "90578cd8273d239b8e7b8684e802a5d2bf36983d871adceeb6751cb0b228939c"
    "1f09bd4bc677d5d40e8eddebae31750a07c42aa9f5381a3756062f5039b47aab"
)


def _policy(password: str, *, min_length: int = 15, username: str = "alice") -> None:
    check_password_policy(
        password, min_length=min_length, username=username, email="alice@example.com"
    )


def test_production_hashes_are_argon2id_at_owasp_minimum_parameters() -> None:
    """A fresh process, which nothing in the test suite has touched, hashes at OWASP's minimum for
    argon2id (19 MiB, 2 passes, 1 lane): the cheap parameters the suite uses stay in the suite."""
    program = (
        "from playdeck.auth.passwords import argon2_parameters, hash_password\n"
        "print(argon2_parameters())\n"
        "print(hash_password('a perfectly fine passphrase'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    parameters, stored = done.stdout.splitlines()
    assert parameters == "Argon2Parameters(memory_kib=19456, time_cost=2, parallelism=1)"
    assert stored.startswith(PRODUCTION_PREFIX)
    assert Argon2Parameters(memory_kib=19_456, time_cost=2, parallelism=1) == ARGON2_PARAMETERS


def test_hashes_made_in_these_tests_use_production_parameters() -> None:
    assert argon2_parameters() == ARGON2_PARAMETERS
    assert hash_password("a perfectly fine passphrase").startswith(PRODUCTION_PREFIX)


def test_argon2id_round_trip_needs_no_update() -> None:
    stored = hash_password("a perfectly fine passphrase")
    assert verify_and_update("a perfectly fine passphrase", stored) == (True, None)
    assert verify_and_update("another passphrase", stored) == (False, None)


def test_outdated_argon2_parameters_are_rehashed() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("an old passphrase")
    valid, updated = verify_and_update("an old passphrase", weak)
    assert valid is True
    assert updated is not None and updated.startswith(PRODUCTION_PREFIX)


def test_passwords_are_normalised_nfkc() -> None:
    stored = hash_password("ﬁne passphrase of mine")  # U+FB01 ligature
    assert verify_and_update("fine passphrase of mine", stored)[0] is True


def test_bcrypt_over_72_bytes_verifies_the_truncated_prefix_without_error() -> None:
    long_password = "x" * 100
    stored = bcrypt.hashpw(long_password[:72].encode(), bcrypt.gensalt(4)).decode()
    valid, updated = verify_and_update(long_password, stored)
    assert valid is True
    assert updated is not None and verify_and_update(long_password, updated) == (True, None)


def test_bcrypt_2y_prefix_is_accepted() -> None:
    stored = bcrypt.hashpw(b"php made this one", bcrypt.gensalt(4)).decode()
    php_style = "$2y$" + stored[4:]
    assert verify_and_update("php made this one", php_style)[0] is True


def test_nuxt_scrypt_hash_verifies_and_upgrades() -> None:
    valid, updated = verify_and_update("imported passphrase from nuxt", NUXT_HASH)
    assert valid is True
    assert updated is not None and updated.startswith("$argon2id$")
    assert verify_and_update("imported passphrase from nuxt!", NUXT_HASH) == (False, None)


@pytest.mark.parametrize("stored", ["", "plaintext", "$1$md5$hash", "zz:zz", "$argon2id$garbage"])
def test_unknown_hash_formats_never_match_and_never_raise(stored: str) -> None:
    assert verify_and_update("anything at all here", stored) == (False, None)


def test_dummy_verification_runs() -> None:
    verify_dummy("whatever the attacker typed")


def test_minimum_length_counts_characters() -> None:
    with pytest.raises(InvalidInput, match="at least 15 characters"):
        _policy("fourteen chars")
    _policy("fifteen chars!!")
    _policy("éàüéàüéàüéàüéàü")  # 15 characters, 30 bytes
    _policy("short but ok", min_length=8)


def test_long_passphrases_are_kept_whole() -> None:
    passphrase = "correct battery " * 16  # 256 characters
    _policy(passphrase)
    stored = hash_password(passphrase)
    assert verify_and_update(passphrase, stored)[0] is True
    assert verify_and_update(passphrase[:-1], stored)[0] is False


def test_over_one_kib_is_refused() -> None:
    with pytest.raises(InvalidInput, match=str(MAX_PASSWORD_BYTES)):
        _policy("a" + "b" * MAX_PASSWORD_BYTES)


def test_no_composition_rules() -> None:
    _policy("all lower case words only")


@pytest.mark.parametrize(
    "password", ["passwordpassword", "PasswordPassword", "qwertyuiopasdfghjkl", "a" * 20]
)
def test_common_and_repetitive_passwords_are_refused(password: str) -> None:
    with pytest.raises(InvalidInput, match="too common"):
        _policy(password)


def test_password_equal_to_username_or_email_is_refused() -> None:
    with pytest.raises(InvalidInput, match="same as the username or email"):
        _policy("alice.the.great.user", username="Alice.The.Great.User")
    with pytest.raises(InvalidInput, match="same as the username or email"):
        _policy("alice@example.com", min_length=8)


def test_common_list_ships_with_the_package() -> None:
    words = common_passwords()
    assert "password123" in words
    assert all(not word.startswith("#") for word in words)
