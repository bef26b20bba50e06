"""User payloads. ``is_superuser`` (the JWT login API's), ``full_name`` (the JWT login API's) and
``name`` (the PhenX dashboard's) are the other products' words for role ``admin`` and the display
name."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    model_validator,
)

from playdeck.auth.policy import MAX_PASSWORD_BYTES, check_password_size
from playdeck.auth.principal import GlobalRole
from playdeck.models import User as UserRow

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,149}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 254
MAX_DISPLAY_NAME = 200


class UserKind(StrEnum):
    """What a ``users`` row is: a person, or a service account (a project's or a global
    identity that works only through its API keys)."""

    PERSON = "person"
    SERVICE = "service"

    @property
    def is_service(self) -> bool:
        return self is UserKind.SERVICE


def clean_username(value: str) -> str:
    value = value.strip()
    if not USERNAME_PATTERN.fullmatch(value):
        raise ValueError(
            "username must be 1-150 characters: letters, digits and . _ @ + - "
            "(starting with a letter or digit)"
        )
    return value


def clean_email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > MAX_EMAIL or not EMAIL_PATTERN.fullmatch(value) or not value.isprintable():
        raise ValueError("email is not a valid address")
    return value


def clean_display_name(value: str | None) -> str | None:
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValueError("name must not contain control characters")
    if len(value) > MAX_DISPLAY_NAME:
        raise ValueError(f"name must be at most {MAX_DISPLAY_NAME} characters")
    return value or None


class User(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str | None
    email_verified_at: datetime | None = Field(
        default=None,
        description="When the email was proven or vouched for; null: unverified (it links "
        "no single-sign-on identity).",
    )
    display_name: str | None
    role: GlobalRole
    is_active: bool
    locked_until: datetime | None = Field(
        description="Set while failed logins keep the account locked."
    )
    last_login_at: datetime | None
    created_at: datetime
    service_account: bool = Field(
        default=False,
        validation_alias=AliasChoices("service_account", "is_service"),
        description="A service account (owned by a project, or global): nobody's identity, "
        "it works only through its API keys and never signs in.",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def is_superuser(self) -> bool:
        return self.role is GlobalRole.ADMIN

    @computed_field  # type: ignore[prop-decorator]
    @property
    def full_name(self) -> str | None:
        return self.display_name

    @computed_field  # type: ignore[prop-decorator]
    @property
    def name(self) -> str | None:
        return self.display_name

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls.model_validate(row)


Password = Annotated[
    str, Field(min_length=1, max_length=MAX_PASSWORD_BYTES), AfterValidator(check_password_size)
]
# ``name`` (PhenX), ``full_name`` (JWT login API) and ``display_name`` (Playdeck's) are one field.
NAME_ALIASES = AliasChoices("name", "full_name", "display_name")


def _role_with_superuser(role: GlobalRole | None, is_superuser: bool | None) -> GlobalRole | None:
    """The JWT login API's ``is_superuser`` means role ``admin``; refuse a payload that says both
    ways."""
    if is_superuser is None:
        return role
    if role is not None and (role is GlobalRole.ADMIN) != is_superuser:
        raise ValueError("role and is_superuser disagree")
    return GlobalRole.ADMIN if is_superuser else role


class UserAdminCreate(BaseModel):
    """``POST /api/admin/users`` (and the PhenX dashboard's ``POST /api/users``)."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=150)
    password: Password
    role: GlobalRole | None = None
    is_superuser: bool | None = None
    name: str | None = Field(
        default=None, max_length=MAX_DISPLAY_NAME, validation_alias=NAME_ALIASES
    )
    email: str | None = Field(default=None, max_length=MAX_EMAIL)

    @model_validator(mode="after")
    def _superuser(self) -> UserAdminCreate:
        _role_with_superuser(self.role, self.is_superuser)
        return self

    @property
    def effective_role(self) -> str:
        return _role_with_superuser(self.role, self.is_superuser) or GlobalRole.USER


class UserAdminUpdate(BaseModel):
    """``PUT``/``PATCH /api/admin/users/{id}``: only the fields sent change (the JWT login
    API's client sends ``{"is_active": ..., "is_superuser": ...}`` with PUT)."""

    model_config = ConfigDict(extra="forbid")

    is_active: bool | None = None
    is_superuser: bool | None = None
    role: GlobalRole | None = None
    name: str | None = Field(
        default=None, max_length=MAX_DISPLAY_NAME, validation_alias=NAME_ALIASES
    )
    email: str | None = Field(default=None, max_length=MAX_EMAIL)
    password: Password | None = None

    @model_validator(mode="after")
    def _superuser(self) -> UserAdminUpdate:
        _role_with_superuser(self.role, self.is_superuser)
        return self

    def new_role(self, current: str) -> str:
        """The role after this update: ``is_superuser: false`` demotes an admin to ``user``
        and leaves any other role as it is."""
        if self.role is not None:
            return self.role
        if self.is_superuser is True:
            return GlobalRole.ADMIN
        if self.is_superuser is False and current == GlobalRole.ADMIN:
            return GlobalRole.USER
        return current


class UserPage(BaseModel):
    items: list[User]
    next_cursor: str | None
