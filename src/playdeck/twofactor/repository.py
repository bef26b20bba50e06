"""SQL for two-factor authentication: authenticators, recovery codes, sign-in challenges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from playdeck.kit import sql
from playdeck.models import (
    TwoFactorAuthenticator,
    TwoFactorChallenge,
    TwoFactorRecoveryCode,
    User,
)


def authenticator_of(session: Session, user_id: int) -> TwoFactorAuthenticator | None:
    return session.scalar(
        select(TwoFactorAuthenticator).where(TwoFactorAuthenticator.user_id == user_id)
    )


def is_enabled(session: Session, user_id: int) -> bool:
    found = session.scalar(
        select(TwoFactorAuthenticator.id).where(
            TwoFactorAuthenticator.user_id == user_id,
            TwoFactorAuthenticator.confirmed_at.is_not(None),
        )
    )
    return found is not None


def save_authenticator(session: Session, row: TwoFactorAuthenticator) -> TwoFactorAuthenticator:
    return sql.add(session, row)


def claim_step(session: Session, authenticator_id: int, *, step: int) -> bool:
    """Record ``step`` as used, if no later or equal step was: exactly one of two concurrent
    sign-ins with the same code wins (the database arbitrates, as for refresh tokens)."""
    result = session.execute(
        update(TwoFactorAuthenticator)
        .where(
            TwoFactorAuthenticator.id == authenticator_id,
            (TwoFactorAuthenticator.last_used_step.is_(None))
            | (TwoFactorAuthenticator.last_used_step < step),
        )
        .values(last_used_step=step),
        execution_options={"synchronize_session": False},
    )
    return sql.rowcount(result) == 1


def replace_ciphertext(session: Session, authenticator_id: int, *, old: str, new: str) -> bool:
    """Store a secret encrypted anew, unless the row changed since ``old`` was read (a new
    enrolment, a concurrent re-encryption): never write an older secret over a newer one."""
    result = session.execute(
        update(TwoFactorAuthenticator)
        .where(
            TwoFactorAuthenticator.id == authenticator_id,
            TwoFactorAuthenticator.secret_ciphertext == old,
        )
        .values(secret_ciphertext=new),
        execution_options={"synchronize_session": False},
    )
    return sql.rowcount(result) == 1


def stored_ciphertexts(session: Session) -> list[tuple[int, str, str]]:
    """Every authenticator (confirmed or pending): its id, its user's name, its ciphertext."""
    rows = session.execute(
        select(TwoFactorAuthenticator.id, User.username, TwoFactorAuthenticator.secret_ciphertext)
        .join(User, User.id == TwoFactorAuthenticator.user_id)
        .order_by(TwoFactorAuthenticator.id)
    )
    return [(row.id, row.username, row.secret_ciphertext) for row in rows]


def delete_authenticator(session: Session, user_id: int) -> int:
    result = session.execute(
        delete(TwoFactorAuthenticator).where(TwoFactorAuthenticator.user_id == user_id),
        execution_options={"synchronize_session": False},
    )
    return sql.rowcount(result)


def replace_recovery_codes(
    session: Session, user_id: int, hashes: list[str], *, at: datetime
) -> None:
    delete_recovery_codes(session, user_id)
    session.add_all(
        TwoFactorRecoveryCode(user_id=user_id, code_hash=value, created_at=at) for value in hashes
    )
    session.flush()


def delete_recovery_codes(session: Session, user_id: int) -> None:
    session.execute(
        delete(TwoFactorRecoveryCode).where(TwoFactorRecoveryCode.user_id == user_id),
        execution_options={"synchronize_session": False},
    )


def claim_recovery_code(session: Session, user_id: int, code_hash: str, *, at: datetime) -> bool:
    """Mark the user's unused code with this hash used; ``True`` for the one caller that did."""
    return sql.claim_unused(
        session,
        TwoFactorRecoveryCode.used_at,
        TwoFactorRecoveryCode.user_id == user_id,
        TwoFactorRecoveryCode.code_hash == code_hash,
        at=at,
    )


def recovery_codes_left(session: Session, user_id: int) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(TwoFactorRecoveryCode)
        .where(TwoFactorRecoveryCode.user_id == user_id, TwoFactorRecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


def add_challenge(session: Session, row: TwoFactorChallenge) -> TwoFactorChallenge:
    return sql.add(session, row)


def challenge_by_hash(session: Session, token_hash: str) -> TwoFactorChallenge | None:
    return session.scalar(
        select(TwoFactorChallenge).where(TwoFactorChallenge.token_hash == token_hash)
    )


def claim_challenge(session: Session, challenge_id: int, *, at: datetime) -> bool:
    return sql.claim_unused(
        session,
        TwoFactorChallenge.used_at,
        TwoFactorChallenge.id == challenge_id,
        TwoFactorChallenge.expires_at > at,
        at=at,
    )


def delete_stale_challenges(session: Session, user_id: int, *, now: datetime) -> None:
    """A user's used or expired challenges: nothing can be done with them any more."""
    session.execute(
        delete(TwoFactorChallenge).where(
            TwoFactorChallenge.user_id == user_id,
            (TwoFactorChallenge.expires_at <= now) | TwoFactorChallenge.used_at.is_not(None),
        ),
        execution_options={"synchronize_session": False},
    )
