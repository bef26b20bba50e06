"""Password policy after NIST SP 800-63B rev. 4 (single-factor): length, not composition.

A password must have at least ``PLAYDECK_PASSWORD_MIN_LENGTH`` characters (Unicode code points
after NFKC), may be a long passphrase, and is refused when it is on the shipped list of common
passwords, is one character repeated, or equals the account's username or email. Inputs over
``MAX_PASSWORD_BYTES`` are refused before any hashing so a megabyte "password" costs nothing.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from playdeck.auth.passwords import normalize
from playdeck.errors import InvalidInput

MAX_PASSWORD_BYTES = 1024
COMMON_PASSWORDS_RESOURCE = "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = files("playdeck.auth").joinpath("data", COMMON_PASSWORDS_RESOURCE).read_text("utf-8")
    return frozenset(
        normalize(line.strip()).casefold()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#")
    )


def check_password_size(password: str) -> str:
    """Refuse inputs too large to hash and text that is not valid Unicode (lone surrogates)."""
    try:
        size = len(password.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError("password is not valid Unicode text") from None
    if size > MAX_PASSWORD_BYTES:
        raise ValueError(f"password must be at most {MAX_PASSWORD_BYTES} bytes")
    return password


def check_password_policy(
    password: str, *, min_length: int, username: str | None, email: str | None
) -> None:
    """Raise ``InvalidInput`` (code ``weak_password``) with a message a person can act on."""
    try:
        check_password_size(password)
    except ValueError as exc:
        raise InvalidInput(f"Password rejected: {exc}", code="weak_password") from None
    normalized = normalize(password)
    if len(normalized) < min_length:
        raise InvalidInput(
            f"Password must be at least {min_length} characters long; "
            "a passphrase of several words is easiest to remember",
            code="weak_password",
        )
    folded = normalized.casefold()
    if folded in common_passwords() or len(set(folded)) == 1:
        raise InvalidInput(
            "Password is too common or too predictable; choose a less guessable passphrase",
            code="weak_password",
        )
    for identity in (username, email):
        if identity and folded == normalize(identity).casefold():
            raise InvalidInput(
                "Password must not be the same as the username or email", code="weak_password"
            )
