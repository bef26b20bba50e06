"""API-key payloads. The plaintext key appears in exactly one of them: ``ApiKeyCreated``."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from playdeck.apikeys.format import display
from playdeck.apikeys.scopes import Scope
from playdeck.kit.clock import utcnow
from playdeck.kit.pagination import MAX_ID, as_utc
from playdeck.models import ApiKey as ApiKeyRow
from playdeck.models import Project as ProjectRow

MAX_NAME = 100
KeyStatus = Literal["active", "expired", "revoked"]


def clean_key_name(value: str) -> str:
    value = unicodedata.normalize("NFC", value).strip()
    if not value:
        raise ValueError("name must not be blank")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise ValueError("name must not contain control characters")
    if len(value) > MAX_NAME:
        raise ValueError(f"name must be at most {MAX_NAME} characters")
    return value


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME, description="What the key is for.")
    expires_at: datetime | None = Field(
        default=None, description="When the key stops working (UTC if no offset is given)."
    )
    project: StrictInt | str | None = Field(
        default=None,
        description="Restrict the key to this project (id or slug).",
    )
    scopes: list[Scope] | None = Field(
        default=None,
        min_length=1,
        description="Restrict the key to these scopes; omitted: every right of its owner.",
    )

    _name = field_validator("name")(clean_key_name)

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)

    @field_validator("project")
    @classmethod
    def _project(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, int) and not 1 <= value <= MAX_ID:
            raise ValueError("project id is out of range")
        if isinstance(value, str) and not 0 < len(value) <= 200:
            raise ValueError("project must be an id or a slug")
        return value

    @field_validator("scopes")
    @classmethod
    def _unique(cls, value: list[Scope] | None) -> list[Scope] | None:
        return None if value is None else sorted(set(value))


class ApiKeyProject(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str


class ApiKey(BaseModel):
    id: int
    user_id: int
    name: str
    prefix: str = Field(description="How the key starts, e.g. pd_1a2b3c4d…")
    project: ApiKeyProject | None
    scopes: list[str] | None = Field(description="null: every right of the owner.")
    status: KeyStatus
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKeyRow, project: ProjectRow | None) -> ApiKey:
        return cls(
            id=row.id,
            user_id=row.user_id,
            name=row.name,
            prefix=display(row.prefix),
            project=ApiKeyProject.model_validate(project) if project is not None else None,
            scopes=row.scopes,
            status=status_of(row),
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )


class ApiKeyCreated(ApiKey):
    key: str = Field(description="The key itself. Shown this once: store it now.")


def status_of(row: ApiKeyRow, now: datetime | None = None) -> KeyStatus:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= (now or utcnow()):
        return "expired"
    return "active"
