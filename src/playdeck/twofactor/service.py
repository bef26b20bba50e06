"""Enrolling, using and removing a second factor. Services flush, the caller commits.

Enrolment is two steps: ``start_enrolment`` (the password again) draws a secret and stores it
encrypted, not yet active; ``confirm_enrolment`` with a code from the app turns it on and
returns the recovery codes, the only time they are ever shown. Turning it off and drawing new
recovery codes take the password too; an administrator's ``reset`` takes nothing from the user
(they lost their phone) and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Actor, Trail
from playdeck.auth.attempt import Attempt, ensure_enabled
from playdeck.auth.client import ClientInfo
from playdeck.auth.password_change import check_current_password
from playdeck.auth.principal import Principal
from playdeck.auth.signin import current_account
from playdeck.authz.service import require_password_sign_in
from playdeck.errors import Conflict, Forbidden, InvalidInput
from playdeck.kit.clock import utcnow
from playdeck.models import TwoFactorAuthenticator, User
from playdeck.settings import Settings
from playdeck.twofactor import cipher, enforcement, recovery, repository, totp

WRONG_CODE = (
    "That code is not right. Enter the current 6-digit code from your authenticator app "
    "(check that your device's clock is correct)."
)


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A secret waiting for its first code: the key to type into an app, and the URI."""

    secret: str
    uri: str

    @property
    def key(self) -> str:
        return totp.grouped(self.secret)


@dataclass(frozen=True, slots=True)
class Status:
    available: bool  # a password account (single sign-on accounts: their provider's MFA)
    enabled: bool
    pending: bool  # enrolment started, not confirmed
    recovery_codes_left: int
    required: bool  # PLAYDECK_REQUIRE_TWO_FACTOR_FOR_ADMINS covers this account


def status(session: Session, *, settings: Settings, user: User) -> Status:
    row = repository.authenticator_of(session, user.id)
    enabled = row is not None and row.confirmed_at is not None
    return Status(
        available=user.password_hash is not None,
        enabled=enabled,
        pending=row is not None and not enabled,
        recovery_codes_left=repository.recovery_codes_left(session, user.id) if enabled else 0,
        required=enforcement.applies_to(settings, user),
    )


def own_account(session: Session, *, settings: Settings, principal: Principal) -> User:
    """The caller's own password account, signed in with a password (never an API key)."""
    ensure_enabled(settings)
    require_password_sign_in(principal, to="manage two-factor authentication")
    user = current_account(session, principal)
    if user.password_hash is None:
        raise Forbidden(
            "Two-factor authentication here is for accounts that sign in with a password; "
            "your organisation's provider asks for your second factor",
            code="two_factor_unavailable",
        )
    return user


def _check_password(
    session: Session,
    attempt: Attempt,
    principal: Principal,
    user: User,
    password: str,
    /,
    *,
    change: str,
) -> None:
    """The password again, like a password change: a refusal is audited as
    ``two_factor.change_failed`` (``change`` names which) and commits."""
    attempt.limits.check_sensitive("two-factor", ip=attempt.client.ip, account=str(user.id))
    check_current_password(
        session,
        principal=principal,
        user=user,
        password=password,
        client=attempt.client,
        failed=Action.TWO_FACTOR_CHANGE_FAILED,
        change=change,
    )


def _require_enabled(session: Session, user: User) -> None:
    if not repository.is_enabled(session, user.id):
        raise Conflict(
            "Two-factor authentication is not on for this account", code="two_factor_not_enabled"
        )


def start_enrolment(
    session: Session, *, attempt: Attempt, principal: Principal, password: str
) -> Enrolment:
    """Draw a new secret (replacing any enrolment not yet confirmed)."""
    user = own_account(session, settings=attempt.settings, principal=principal)
    if repository.is_enabled(session, user.id):
        raise Conflict(
            "Two-factor authentication is already on; turn it off first to use another app",
            code="two_factor_already_enabled",
        )
    _check_password(session, attempt, principal, user, password, change="enrol")
    secret = totp.new_secret()
    ciphertext = cipher.of(attempt.settings).encrypt(secret)
    row = repository.authenticator_of(session, user.id)
    if row is None:
        row = TwoFactorAuthenticator(user_id=user.id, secret_ciphertext=ciphertext)
    row.secret_ciphertext = ciphertext
    row.created_at = utcnow()
    repository.save_authenticator(session, row)
    return _enrolment(user, secret)


def _enrolment(user: User, secret: str) -> Enrolment:
    return Enrolment(secret=secret, uri=totp.provisioning_uri(secret, account=user.username))


def pending_enrolment(session: Session, *, settings: Settings, user: User) -> Enrolment | None:
    """The enrolment waiting for its first code, to show its key again (a mistyped code)."""
    row = repository.authenticator_of(session, user.id)
    if row is None or row.confirmed_at is not None:
        return None
    secret = cipher.of(settings).decrypt(row.secret_ciphertext)
    return None if secret is None else _enrolment(user, secret)


def confirm_enrolment(
    session: Session,
    *,
    attempt: Attempt,
    principal: Principal,
    code: str,
) -> list[str]:
    """Turn two-factor authentication on with a first code; returns the recovery codes."""
    user = own_account(session, settings=attempt.settings, principal=principal)
    row = repository.authenticator_of(session, user.id)
    if row is None or row.confirmed_at is not None:
        raise Conflict(
            "There is no enrolment waiting for a code; start again", code="two_factor_not_pending"
        )
    attempt.limits.check_sensitive("two-factor", ip=attempt.client.ip, account=str(user.id))
    box = cipher.of(attempt.settings)
    opened = box.open(row.secret_ciphertext)
    now = utcnow()
    step = None if opened is None else totp.matching_step(opened.secret, code, at=now, after=None)
    if opened is None or step is None:
        raise InvalidInput(WRONG_CODE, code="invalid_two_factor_code")
    if opened.stale:  # enrolment started before the key was rotated
        row.secret_ciphertext = box.encrypt(opened.secret)
    row.confirmed_at = now
    row.last_used_step = step  # the confirming code cannot sign anyone in afterwards
    codes = _new_recovery_codes(session, user)
    session.flush()
    trail = Trail.of(session, principal, attempt.client)
    trail.record(Action.TWO_FACTOR_ENABLED, user, recovery_codes=len(codes))
    return codes


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    codes = recovery.new_codes()
    repository.replace_recovery_codes(
        session, user.id, [recovery.hash_code(code) for code in codes], at=utcnow()
    )
    return codes


def regenerate_recovery_codes(
    session: Session, *, attempt: Attempt, principal: Principal, password: str
) -> list[str]:
    """Ten new recovery codes; every earlier one stops working."""
    user = own_account(session, settings=attempt.settings, principal=principal)
    _require_enabled(session, user)
    _check_password(session, attempt, principal, user, password, change="recovery_codes")
    codes = _new_recovery_codes(session, user)
    trail = Trail.of(session, principal, attempt.client)
    trail.record(Action.TWO_FACTOR_RECOVERY_CODES_REGENERATED, user, recovery_codes=len(codes))
    return codes


def disable(session: Session, *, attempt: Attempt, principal: Principal, password: str) -> None:
    """Turn two-factor authentication off (the password again). Refused for an administrator
    while the server requires it of administrators."""
    user = own_account(session, settings=attempt.settings, principal=principal)
    _require_enabled(session, user)
    if enforcement.applies_to(attempt.settings, user):
        raise Conflict(
            "This server requires administrators to use two-factor authentication",
            code="two_factor_required",
        )
    _check_password(session, attempt, principal, user, password, change="disable")
    _remove(session, user.id)
    Trail.of(session, principal, attempt.client).record(Action.TWO_FACTOR_DISABLED, user)


def _remove(session: Session, user_id: int) -> bool:
    removed = repository.delete_authenticator(session, user_id) > 0
    repository.delete_recovery_codes(session, user_id)
    return removed


def reset(session: Session, *, user: User, actor: Actor, client: ClientInfo | None = None) -> bool:
    """An administrator's (or the CLI's) removal of a user's second factor, for a user who lost
    it: they sign in with their password alone again, and may enrol anew. Returns whether
    there was one."""
    was_enabled = repository.is_enabled(session, user.id)
    removed = _remove(session, user.id)
    Trail(session, actor, client).record(
        Action.TWO_FACTOR_RESET,
        user,
        was_enabled=was_enabled,
        pending_removed=removed and not was_enabled,
    )
    return was_enabled
