"""TOTP (RFC 6238) with pyotp: 6 digits, 30-second steps, SHA-1 (what every authenticator app
accepts), and the step arithmetic the replay rule needs.

A code is accepted for its own step and one step either side (clock drift between phone and
server), and only when its step is later than the last step accepted for the same user: a code
never works twice, and neither does an older one once a newer one was used.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

ISSUER = "Playdeck"
STEP_SECONDS = 30
DIGITS = 6
# Steps accepted either side of the server's current one.
DRIFT_STEPS = 1


def new_secret() -> str:
    """160 random bits, base32 (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, *, account: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=ISSUER
    )


def grouped(secret: str) -> str:
    """``ABCD EFGH ...``: the key as a person types it into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def step_at(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def normalize_code(code: str) -> str:
    """Digits only: apps show ``123 456``, people paste ``123-456``."""
    return "".join(ch for ch in code if not ch.isspace() and ch != "-")


def looks_like_code(code: str) -> bool:
    value = normalize_code(code)
    return len(value) == DIGITS and value.isascii() and value.isdigit()


def matching_step(secret: str, code: str, *, at: datetime, after: int | None) -> int | None:
    """The step ``code`` belongs to, within the drift window around ``at`` and later than
    ``after``; ``None`` when it matches none. Every candidate is compared, in constant time."""
    value = normalize_code(code)
    if not looks_like_code(value):
        return None
    now = step_at(at)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step), value) and (after is None or step > after):
            found = step
    return found
