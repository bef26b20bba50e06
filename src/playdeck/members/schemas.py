"""Member payloads. The JWT login API's client sends ``{"user_id": "USER_ID", "role": "member"}``:
the id as a string, which is accepted as long as it is a number."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from playdeck.authz.permissions import ProjectRole, RoleSource
from playdeck.kit.pagination import MAX_ID
from playdeck.models import ProjectMember, User


class MemberCreate(BaseModel):
    """Who (exactly one of ``user_id``, ``username``, ``email``) and with which role."""

    model_config = ConfigDict(extra="forbid")

    user_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    username: str | None = Field(default=None, min_length=1, max_length=150)
    email: str | None = Field(default=None, min_length=1, max_length=254)
    role: ProjectRole

    @model_validator(mode="after")
    def _one_user(self) -> MemberCreate:
        given = [v for v in (self.user_id, self.username, self.email) if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of user_id, username or email")
        return self


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: ProjectRole


class Member(BaseModel):
    user_id: int
    username: str
    name: str | None
    email: str | None
    is_active: bool
    role: ProjectRole
    source: RoleSource = Field(
        description="Who gave the role: `manual` (an owner or admin) or `provider` (single "
        "sign-on claim rules, re-applied at each sign-on; never applied to `manual`)."
    )
    created_at: datetime = Field(description="When the user joined the project.")

    @classmethod
    def of(cls, member: ProjectMember, user: User) -> Member:
        return cls(
            user_id=user.id,
            username=user.username,
            name=user.display_name,
            email=user.email,
            is_active=user.is_active,
            role=ProjectRole(member.role),
            source=RoleSource(member.source),
            created_at=member.created_at,
        )
