"""The one principal every permission check reads, whatever the transport (cookie, JWT, key)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class GlobalRole(StrEnum):
    ADMIN = "admin"
    REPORTER = "reporter"
    USER = "user"


GLOBAL_ROLES: tuple[GlobalRole, ...] = tuple(GlobalRole)


class CredentialKind(StrEnum):
    NONE = "none"  # authentication is off: the built-in administrator
    ANONYMOUS = "anonymous"  # auth on, no credential (public-read mode)
    SESSION = "session"
    ACCESS_TOKEN = "access_token"  # noqa: S105 - a credential kind, not a secret
    API_KEY = "api_key"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int | None
    username: str
    role: GlobalRole | None
    credential: CredentialKind
    # API-key restrictions: a key never has more rights than its owner.
    key_id: int | None = None
    key_project_id: int | None = None
    key_scopes: frozenset[str] = field(default_factory=frozenset)
    session_id: int | None = None
    # Set when the session cookie authenticated the request: what its unsafe requests must echo.
    csrf_token: str | None = None
    # PLAYDECK_PUBLIC_READ is on: every project is readable by anyone, signed in or not (set by
    # ``authz.dependencies.authorize``, so that signing in never shows less than signing out).
    public_read: bool = False
    # The key belongs to a service account (``service_accounts``), not to a person.
    service_account: bool = False
    # PLAYDECK_REQUIRE_TWO_FACTOR_FOR_ADMINS holds this administrator's password session to
    # enrolling a second factor (``twofactor.enforcement``; ``authz.dependencies.authorize``).
    must_enrol_two_factor: bool = False

    @classmethod
    def builtin_admin(cls) -> Principal:
        return cls(
            user_id=None, username="admin", role=GlobalRole.ADMIN, credential=CredentialKind.NONE
        )

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(
            user_id=None, username="anonymous", role=None, credential=CredentialKind.ANONYMOUS
        )

    @property
    def is_authenticated(self) -> bool:
        return self.credential not in (CredentialKind.ANONYMOUS,)

    @property
    def is_admin(self) -> bool:
        return self.role is GlobalRole.ADMIN
