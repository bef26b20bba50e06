"""The second half of a two-factor sign-in: a challenge and a code in, a session out.

The code is a TOTP code (its step later than the last one used: no replay) or an unused
recovery code. Everything a wrong password meets, a wrong code meets too: the login rate limits
(per client IP and per account), the account's failure counter and its lockout, the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from playdeck.audit import service as audit
from playdeck.audit.service import Action, Trail
from playdeck.auth.attempt import Attempt, ensure_enabled
from playdeck.auth.rate_limit import locked_error
from playdeck.auth.sessions import IssuedLogin
from playdeck.auth.signin import record_failed_login, signed_in
from playdeck.auth.tokens import hash_secret
from playdeck.errors import Unauthorized
from playdeck.kit.clock import utcnow
from playdeck.models import User
from playdeck.observability.metrics import LOGIN_FAILURES
from playdeck.twofactor import cipher, recovery, rekey, repository, totp
from playdeck.users import repository as users

INVALID_CHALLENGE = "This sign-in has expired or was already completed; sign in again"
INVALID_CODE = "Invalid two-factor code"
TOTP = "totp"
RECOVERY_CODE = "recovery_code"


@dataclass(frozen=True, slots=True)
class SecondFactor:
    challenge: str
    code: str


def _invalid_challenge() -> Unauthorized:
    return Unauthorized(INVALID_CHALLENGE, code="two_factor_challenge_invalid")


def complete(session: Session, *, attempt: Attempt, answer: SecondFactor) -> IssuedLogin:
    """Sign in with the challenge a right password earned and a second factor.

    401 ``two_factor_challenge_invalid`` for an unknown, expired or used challenge; 429 past the
    login rate limits; 423 while the account is locked; 401 ``invalid_two_factor_code`` for a
    wrong, replayed or used code, counted toward the lockout like a wrong password.
    """
    settings, limits, client = attempt.settings, attempt.limits, attempt.client
    ensure_enabled(settings)
    # Before any read, as the password step does: on SQLite the failure counter's write must not
    # find a snapshot another sign-in made stale.
    users.claim_sqlite_write_lock(session)
    now = utcnow()
    challenge = repository.challenge_by_hash(session, hash_secret(answer.challenge))
    if challenge is None or challenge.used_at is not None or challenge.expires_at <= now:
        raise _invalid_challenge()
    user = users.get(session, challenge.user_id)
    if user is None or not user.is_active:
        raise _invalid_challenge()
    limits.check_login(ip=client.ip, identifier=user.username)
    if user.locked_until is not None and user.locked_until > now:
        LOGIN_FAILURES.labels(reason="locked").inc()
        audit.record_refusal(session, Action.LOGIN_BLOCKED, target=user, client=client)
        raise locked_error(user.locked_until.timestamp()).recorded()
    method = _accept(session, attempt=attempt, user=user, code=answer.code, now=now)
    if method is None:
        record_failed_login(
            session, settings=settings, client=client, user=user, now=now, reason="wrong_code"
        )
        raise Unauthorized(INVALID_CODE, code="invalid_two_factor_code").recorded()
    if not repository.claim_challenge(session, challenge.id, at=now):
        raise _invalid_challenge()  # a concurrent answer to the same challenge won
    return signed_in(session, attempt=attempt, user=user, now=now, second_factor=method)


def _accept(
    session: Session, *, attempt: Attempt, user: User, code: str, now: datetime
) -> str | None:
    """How ``code`` proves the second factor (``totp``, ``recovery_code``), or ``None``."""
    if totp.looks_like_code(code):
        row = repository.authenticator_of(session, user.id)
        if row is None or row.confirmed_at is None:
            return None
        box = cipher.of(attempt.settings)
        opened = box.open(row.secret_ciphertext)
        step = (
            None
            if opened is None
            else totp.matching_step(opened.secret, code, at=now, after=row.last_used_step)
        )
        if opened is None or step is None or not repository.claim_step(session, row.id, step=step):
            return None
        rekey.renew(
            session, box, authenticator_id=row.id, ciphertext=row.secret_ciphertext, opened=opened
        )
        return TOTP
    if not recovery.looks_like_recovery_code(code):
        return None
    if not repository.claim_recovery_code(session, user.id, recovery.hash_code(code), at=now):
        return None
    Trail.own(session, user, attempt.client).record(
        Action.TWO_FACTOR_RECOVERY_CODE_USED,
        user,
        recovery_codes_left=repository.recovery_codes_left(session, user.id),
    )
    return RECOVERY_CODE
