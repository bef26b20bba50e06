"""Write and read the audit log.

``record`` is the only writer. It refuses detail keys that name secrets, so a careless caller
fails loudly in tests instead of leaking a password into the log.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from playdeck.audit import repository
from playdeck.audit.repository import AuditFilter
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import CredentialKind, Principal
from playdeck.errors import InvalidInput
from playdeck.kit import pagination
from playdeck.kit.pagination import decode_cursor, encode_cursor
from playdeck.models import AuditEvent, User

SECRET_WORDS = ("password", "token", "secret", "hash", "cookie")


# The actor name of everything done while authentication was off (the built-in administrator).
AUTH_OFF_ACTOR = "authentication disabled"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"


class Action(StrEnum):  # values name events; none is a secret
    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    LOGIN_LOCKED_OUT = "login.locked_out"  # the failure that set the lock
    LOGIN_BLOCKED = "login.blocked"  # an attempt while locked
    LOGOUT = "logout"
    LOGOUT_ALL = "logout.all"
    REFRESH_REUSED = "refresh_token.reused"
    PASSWORD_CHANGED = "password.changed"  # noqa: S105
    PASSWORD_CHANGE_FAILED = "password.change_failed"  # noqa: S105
    SETUP_COMPLETED = "setup.completed"
    USER_REGISTERED = "user.registered"
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_UNLOCKED = "user.unlocked"
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105
    USER_DEACTIVATED = "user.deactivated"
    USER_DELETED = "user.deleted"
    MEMBER_ADDED = "member.added"
    MEMBER_ROLE_CHANGED = "member.role_changed"
    MEMBER_REMOVED = "member.removed"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"
    RETENTION_POLICY_CHANGED = "retention.policy_changed"
    RETENTION_PRUNED = "retention.pruned"
    RUN_PINNED = "run.pinned"
    RUN_UNPINNED = "run.unpinned"
    RUN_DELETED = "run.deleted"
    PROJECT_DELETED = "project.deleted"
    SERVICE_ACCOUNT_CREATED = "service_account.created"
    SERVICE_ACCOUNT_DELETED = "service_account.deleted"
    INVITATION_CREATED = "invitation.created"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_REVOKED = "invitation.revoked"
    RESET_LINK_CREATED = "password_reset_link.created"
    RESET_LINK_USED = "password_reset_link.used"
    TEST_QUARANTINED = "test.quarantined"
    TEST_UNQUARANTINED = "test.unquarantined"
    # Self-service (profile/, auth/own_sessions.py)
    SESSION_ENDED = "session.ended"
    EMAIL_CHANGE_REQUESTED = "email.change_requested"
    EMAIL_CHANGE_FAILED = "email.change_failed"
    EMAIL_VERIFIED = "email.verified"
    TWO_FACTOR_ENABLED = "two_factor.enabled"
    TWO_FACTOR_DISABLED = "two_factor.disabled"
    TWO_FACTOR_CHANGE_FAILED = "two_factor.change_failed"  # a wrong password; detail ``change``
    TWO_FACTOR_RESET = "two_factor.reset"  # by an administrator
    TWO_FACTOR_RECOVERY_CODE_USED = "two_factor.recovery_code_used"
    TWO_FACTOR_RECOVERY_CODES_REGENERATED = "two_factor.recovery_codes_regenerated"
    TWO_FACTOR_REKEYED = "two_factor.rekeyed"  # every secret under the current key (CLI)


@dataclass(frozen=True, slots=True)
class Actor:
    type: str  # "user" | "api_key" | "service_account" | "system" | "anonymous"
    id: int | None = None
    name: str | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        if principal.credential is CredentialKind.NONE:
            return cls(type="system", name=AUTH_OFF_ACTOR)
        if principal.credential is CredentialKind.ANONYMOUS:
            return cls(type="anonymous")
        kind = "api_key" if principal.credential is CredentialKind.API_KEY else "user"
        if principal.service_account:  # a key of nobody's: the audit log says so
            kind = "service_account"
        return cls(type=kind, id=principal.user_id, name=principal.username)

    @classmethod
    def user(cls, user: User) -> Actor:
        return cls(type="user", id=user.id, name=user.username)

    @classmethod
    def cli(cls) -> Actor:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "unknown"
        return cls(type="system", name=f"cli:{who}"[:200])

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(type="system", name=name)


ANONYMOUS = Actor(type="anonymous")


def _check_details(details: dict[str, Any]) -> None:
    for key in details:
        lowered = key.lower()
        if any(lowered == word or lowered.endswith(f"_{word}") for word in SECRET_WORDS):
            raise ValueError(f"audit detail {key!r} looks like a secret; never log secrets")


def record(
    session: Session,
    *,
    action: Action,
    actor: Actor,
    outcome: Outcome = Outcome.SUCCESS,
    target: User | None = None,
    client: ClientInfo | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    details = details or {}
    _check_details(details)
    event = AuditEvent(
        action=action.value,
        outcome=outcome.value,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_name=actor.name,
        target_type="user" if target is not None else None,
        target_id=target.id if target is not None else None,
        target_name=target.username if target is not None else None,
        ip=client.ip if client else None,
        user_agent=client.user_agent if client else None,
        details=details,
    )
    return repository.add(session, event)


@dataclass(frozen=True, slots=True)
class Trail:
    """Who acts and from where: what every audit event of one change shares. Each ``record``
    adds what happened, to whom (``target``) and its details."""

    session: Session
    actor: Actor
    client: ClientInfo | None = None

    @classmethod
    def of(
        cls,
        session: Session,
        principal: Principal,
        client: ClientInfo | None = None,
        *,
        actor: Actor | None = None,
    ) -> Trail:
        """The caller's trail; ``actor`` names who acts when the principal does not say (the
        CLI acts as the built-in administrator and names the operator)."""
        return cls(session, actor or Actor.of(principal), client)

    @classmethod
    def own(cls, session: Session, user: User, client: ClientInfo | None = None) -> Trail:
        """A user acting on their own account without a principal: signing in, following a
        link from a mail."""
        return cls(session, Actor.user(user), client)

    def record(
        self, action: Action, target: User | None = None, /, **details: object
    ) -> AuditEvent:
        return self._write(action, target, Outcome.SUCCESS, details)

    def refused(
        self, action: Action, target: User | None = None, /, **details: object
    ) -> AuditEvent:
        """An attempt the actor made and was refused (the caller raises ``.recorded()``)."""
        return self._write(action, target, Outcome.FAILURE, details)

    def _write(
        self, action: Action, target: User | None, outcome: Outcome, details: dict[str, object]
    ) -> AuditEvent:
        return record(
            self.session,
            action=action,
            actor=self.actor,
            outcome=outcome,
            target=target,
            client=self.client,
            details=details,
        )


def record_refusal(
    session: Session,
    action: Action,
    *,
    target: User | None = None,
    client: ClientInfo | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """A refused attempt by someone not (yet) signed in: a failed login, a blocked one."""
    return Trail(session, ANONYMOUS, client).refused(action, target, **(details or {}))


def list_events(
    session: Session, *, where: AuditFilter, cursor: str | None, limit: int
) -> tuple[list[AuditEvent], str | None]:
    after = decode_cursor(cursor, arity=1)
    before_id: int | None = None
    if after is not None:
        if not isinstance(after[0], int) or isinstance(after[0], bool):
            raise InvalidInput("Invalid cursor", code="invalid_cursor")
        before_id = after[0]
    rows = repository.list_page(session, where=where, before_id=before_id, limit=limit)
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def as_utc(value: datetime | None) -> datetime | None:
    """Filters take aware datetimes, in UTC; a naive one is read as UTC (out of range: 422)."""
    return None if value is None else pagination.as_utc(value)
