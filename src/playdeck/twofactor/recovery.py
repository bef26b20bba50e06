"""Recovery codes: ten single-use codes shown once, stored as SHA-256 like every other one-time
secret here (``auth.tokens.hash_secret``). Each has 80 random bits, so an unsalted fast hash is
enough: no list of guesses covers a meaningful part of the space."""

from __future__ import annotations

import secrets

from playdeck.auth.tokens import hash_secret

COUNT = 10
# The lower-case RFC 4648 base32 alphabet: 5 bits a symbol, and no 0 or 1 to mistake for o or l.
ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
GROUPS = 4
GROUP_LENGTH = 4
LENGTH = GROUPS * GROUP_LENGTH  # 16 symbols x 5 bits = 80 bits


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP_LENGTH] for i in range(0, LENGTH, GROUP_LENGTH))


def new_codes() -> list[str]:
    return [new_code() for _ in range(COUNT)]


def normalize(code: str) -> str:
    return "".join(ch for ch in code.strip().lower() if ch not in " -")


def looks_like_recovery_code(code: str) -> bool:
    value = normalize(code)
    return len(value) == LENGTH and all(ch in ALPHABET for ch in value)


def hash_code(code: str) -> str:
    return hash_secret(normalize(code))
