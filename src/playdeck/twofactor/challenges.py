"""The first half of a two-factor sign-in: the password was right, the account has a second
factor, so instead of a session the caller gets a challenge to answer with a code.

A challenge is 256 random bits behind the prefix ``pdc_``; only its SHA-256 is stored. It lives
``CHALLENGE_SECONDS`` and signs in at most once (``signin.complete``). It is no credential: it
reaches no route but ``POST /api/auth/login/two-factor`` (and the sign-in form's second step).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from playdeck.auth.tokens import hash_secret
from playdeck.kit.clock import utcnow
from playdeck.models import TwoFactorChallenge, User
from playdeck.twofactor import repository

CHALLENGE_PREFIX = "pdc_"
CHALLENGE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class SecondFactorChallenge:
    """What a right password earns an account with two-factor authentication on."""

    user: User
    token: str  # shown once, to whoever typed the password
    expires_in: int


def required(session: Session, user: User) -> bool:
    """Whether a password sign-in as ``user`` needs a second factor."""
    return repository.is_enabled(session, user.id)


def begin(session: Session, *, user: User) -> SecondFactorChallenge:
    now = utcnow()
    repository.delete_stale_challenges(session, user.id, now=now)
    token = CHALLENGE_PREFIX + secrets.token_urlsafe(32)
    repository.add_challenge(
        session,
        TwoFactorChallenge(
            user_id=user.id,
            token_hash=hash_secret(token),
            created_at=now,
            expires_at=now + timedelta(seconds=CHALLENGE_SECONDS),
        ),
    )
    return SecondFactorChallenge(user=user, token=token, expires_in=CHALLENGE_SECONDS)
