"""User payloads. ``is_superuser`` (seed 000), ``full_name`` and ``name`` (seed 004) are the
other products' words for role ``admin`` and the display name."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from playdeck.models import User as UserRow

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,149}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 254
MAX_DISPLAY_NAME = 200


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
    display_name: str | None
    role: str
    is_active: bool
    locked_until: datetime | None = Field(
        description="Set while failed logins keep the account locked."
    )
    last_login_at: datetime | None
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def is_superuser(self) -> bool:
        return self.role == "admin"

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
