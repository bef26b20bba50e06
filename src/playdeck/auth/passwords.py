"""Password hashing: argon2id for new hashes; bcrypt and the PhenX dashboard's scrypt verified and
upgraded.

New hashes are argon2id with OWASP's recommended minimum (m=19 MiB, t=2, p=1), over the NFKC form
of the password (NIST SP 800-63B asks verifiers to normalise). Hashes imported from the systems
Playdeck replaces are verified over the password exactly as typed, the way they were made, and
``verify_and_update`` hands back an argon2id replacement so the account upgrades on its next
login.

The argon2id parameters are ``ARGON2_PARAMETERS`` in every Playdeck process. No setting or
environment variable reaches them: the only way to change them is ``use_argon2_parameters``, which
the test suite calls to make its thousands of sign-ins cheap (``tests/fixtures/passwords.py``).
They are process-wide, not per app, because the dummy hash that answers unknown usernames must
cost what a real hash costs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.base import ensure_str
from pwdlib.hashers.bcrypt import BcryptHasher


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    memory_kib: int
    time_cost: int
    parallelism: int


# OWASP's recommended minimum for argon2id: what every hash a Playdeck server makes uses.
ARGON2_PARAMETERS = Argon2Parameters(memory_kib=19_456, time_cost=2, parallelism=1)
BCRYPT_MAX_BYTES = 72

# The PhenX dashboard (Nuxt) stores ``salthex:hashhex`` from
# ``crypto.scrypt(password, salthex, 64)``: the salt passed to scrypt is the 32-character hex
# *text*, not the decoded bytes, and Node's defaults apply (N=16384, r=8, p=1). Those parameters
# are Node's documented defaults, not stored in the hash, so they are an assumption about how the
# imported hashes were made.
SCRYPT_N = 16_384
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_KEY_BYTES = 64
_SCRYPT_FORMAT = re.compile(r"^([0-9a-f]{32}):([0-9a-f]{128})$")


class LegacyScryptHasher:
    """Verify-only hasher for the PhenX dashboard's ``salthex:hashhex`` scrypt hashes."""

    @classmethod
    def identify(cls, hash: str | bytes) -> bool:
        try:
            return _SCRYPT_FORMAT.fullmatch(ensure_str(hash)) is not None
        except UnicodeDecodeError:
            return False

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        raise NotImplementedError("legacy scrypt hashes are verified, never created")

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        match = _SCRYPT_FORMAT.fullmatch(ensure_str(hash))
        if match is None:
            return False
        secret = password.encode("utf-8") if isinstance(password, str) else password
        derived = hashlib.scrypt(
            secret,
            salt=match.group(1).encode("ascii"),
            n=SCRYPT_N,
            r=SCRYPT_R,
            p=SCRYPT_P,
            dklen=SCRYPT_KEY_BYTES,
            maxmem=64 * 1024 * 1024,
        )
        return hmac.compare_digest(derived, bytes.fromhex(match.group(2)))

    def check_needs_rehash(self, hash: str | bytes) -> bool:
        return True


class LegacyBcryptHasher(BcryptHasher):
    """bcrypt as older systems used it: only the first 72 bytes ever counted.

    bcrypt >= 5 refuses longer input instead of truncating; an imported hash was made from the
    truncated bytes, so verify those (the argon2id replacement then covers the whole password).
    """

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        secret = password.encode("utf-8") if isinstance(password, str) else password
        try:
            return super().verify(secret[:BCRYPT_MAX_BYTES], hash)
        except ValueError:
            return False


class _Hashers:
    """argon2id with one set of parameters (new hashes, and the yardstick for rehashing), then the
    legacy formats that are only verified."""

    def __init__(self, parameters: Argon2Parameters) -> None:
        self.parameters = parameters
        self.argon2 = Argon2Hasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_kib,
            parallelism=parameters.parallelism,
        )
        self.all = PasswordHash((self.argon2, LegacyBcryptHasher(), LegacyScryptHasher()))
        self._dummy_hash: str | None = None

    def dummy_hash(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.all.hash(
                normalize("playdeck dummy password, never assigned to anyone")
            )
        return self._dummy_hash


_active = _Hashers(ARGON2_PARAMETERS)


def use_argon2_parameters(parameters: Argon2Parameters) -> Argon2Parameters:
    """Make and expect argon2id hashes with ``parameters`` from now on, in this process; returns
    the parameters in force before. For the test suite only (see the module's docstring)."""
    global _active
    previous = _active.parameters
    _active = _Hashers(parameters)
    return previous


def argon2_parameters() -> Argon2Parameters:
    """The parameters new hashes are made with in this process."""
    return _active.parameters


def normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _active.all.hash(normalize(password))


def verify_and_update(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Whether ``password`` matches, and a new argon2id hash when the stored one is outdated.
    An account without a password (single sign-on only) matches none, after the same work."""
    hashers = _active
    if password_hash is None:
        verify_dummy(password)
        return False, None
    if hashers.argon2.identify(password_hash):
        return hashers.all.verify_and_update(normalize(password), password_hash)
    for legacy in hashers.all.hashers[1:]:
        if legacy.identify(password_hash):
            if not legacy.verify(password, password_hash):
                return False, None
            return True, hash_password(password)
    return False, None  # an unknown format never matches (and never raises)


def verify_dummy(password: str) -> None:
    """Spend the time of a real verification, so unknown usernames answer as slowly."""
    hashers = _active
    hashers.all.verify(normalize(password), hashers.dummy_hash())
