"""Bodies of the invitation and reset-link endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from playdeck.auth.principal import GlobalRole
from playdeck.auth.schemas import Password
from playdeck.authz.permissions import ProjectRole
from playdeck.models import AccountLink
from playdeck.users.schemas import clean_email

Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(clean_email)]
# Token length is fixed by ``service.new_token``; anything far longer is not one of ours.
Token = Annotated[str, Field(min_length=8, max_length=100)]
MAX_MEMBERSHIPS = 50


class MembershipGrant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: str = Field(min_length=1, max_length=200, description="Project id or slug.")
    role: ProjectRole


class InvitationCreate(BaseModel):
    """An administrator's invitation: the account's global role and its project roles."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = Field(default=None, description="Mailed to, and the account's email.")
    role: GlobalRole = GlobalRole.USER
    memberships: list[MembershipGrant] = Field(default_factory=list, max_length=MAX_MEMBERSHIPS)


class ProjectInvitationCreate(BaseModel):
    """A project owner's invitation: a global ``user`` with one role in this project."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    role: ProjectRole = ProjectRole.MEMBER


class InvitationAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Token
    username: str = Field(min_length=1, max_length=150)
    password: Password
    name: str | None = Field(default=None, max_length=200)


class PasswordResetWithLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Token
    password: Password


class Invitation(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # the fields are the link's columns

    id: int
    email: str | None
    role: GlobalRole | None
    memberships: list[dict[str, object]]
    project_id: int | None
    created_by_id: int | None
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, row: AccountLink) -> Invitation:
        return cls.model_validate(row)


class IssuedLinkOut(BaseModel):
    """The link, shown this once (only its hash is stored)."""

    id: int
    url: str
    expires_at: datetime
    emailed_to: str | None = Field(
        description="The address it is mailed to after the commit (SMTP configured), or null."
    )
