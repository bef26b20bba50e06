"""Password policy after NIST SP 800-63B rev. 4 (single-factor): length, not composition.

A password must have at least ``PLAYDECK_PASSWORD_MIN_LENGTH`` characters (Unicode code points
after NFKC), may be a long passphrase, and is refused when it is on the shipped list of common
passwords, is one character repeated, or is built from context words (NIST's "context-specific
words": the username, the email and its local part, the product's name): once those words,
separators and punctuation are taken out, fewer than ``MIN_OWN_CHARACTERS`` remain
(``resetme-resetme-resetme`` for ``resetme``, ``Playdeck-dashboard``, ``playdeckplaydeck``).
Inputs over ``MAX_PASSWORD_BYTES`` are refused before any hashing so a megabyte "password"
costs nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

from playdeck.auth.passwords import normalize
from playdeck.errors import InvalidInput

MAX_PASSWORD_BYTES = 1024
COMMON_PASSWORDS_RESOURCE = "common-passwords.txt"
# The product, as people name it: "the Playdeck dashboard".
PRODUCT_WORDS = ("playdeck", "dashboard")
# What must remain of a password once the context words are taken out.
MIN_OWN_CHARACTERS = 6
_SEPARATORS = re.compile(r"[\W_]+")


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
    if len(_without_context(folded, username=username, email=email)) < MIN_OWN_CHARACTERS:
        raise InvalidInput(
            "Password is built from your username, email or this product's name; "
            "add words of your own",
            code="weak_password",
        )


def context_words(*, username: str | None, email: str | None) -> list[str]:
    """The words a password must not be made of, longest first (so "alice.smith" goes before
    "alice")."""
    words = set(PRODUCT_WORDS)
    local_part = email.partition("@")[0] if email else None
    for identity in (username, email, local_part):
        if not identity:
            continue
        folded = normalize(identity).casefold()
        words.add(folded)
        words.update(part for part in _SEPARATORS.split(folded) if len(part) >= 3)
    return sorted(words, key=len, reverse=True)


def _without_context(folded: str, *, username: str | None, email: str | None) -> str:
    remainder = folded
    for word in context_words(username=username, email=email):
        remainder = remainder.replace(word, "")
    return _SEPARATORS.sub("", remainder)
