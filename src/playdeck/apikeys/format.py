"""The key itself: ``pd_`` and 64 lowercase hex characters (32 random bytes).

The ``pd_`` prefix lets secret scanners recognise a leaked key. Anything that does not have
exactly this shape is refused before hashing or touching the database, whatever it contains.
"""

from __future__ import annotations

import re
import secrets

from playdeck.auth.transport import API_KEY_PREFIX

KEY_BYTES = 32
KEY_LENGTH = len(API_KEY_PREFIX) + 2 * KEY_BYTES
KEY_PATTERN = re.compile(r"pd_[0-9a-f]{64}")
PREFIX_LENGTH = 8  # hex characters shown to tell keys apart


def new_key() -> str:
    return API_KEY_PREFIX + secrets.token_bytes(KEY_BYTES).hex()


def is_well_formed(value: str) -> bool:
    return len(value) == KEY_LENGTH and KEY_PATTERN.fullmatch(value) is not None


def prefix_of(key: str) -> str:
    """The stored display prefix: the first hex characters after ``pd_``."""
    return key[len(API_KEY_PREFIX) : len(API_KEY_PREFIX) + PREFIX_LENGTH]


def display(prefix: str) -> str:
    """How a key is shown once its plaintext is gone: ``pd_1a2b3c4d…``."""
    return f"{API_KEY_PREFIX}{prefix}…"
