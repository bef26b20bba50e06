"""Bodies of the self-service endpoints (``/api/auth/me``, ``/api/auth/sessions``,
``/api/auth/verify-email``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from playdeck.auth.schemas import Password
from playdeck.invitations.schemas import Email, Token
from playdeck.models import UserSession
from playdeck.users.schemas import MAX_DISPLAY_NAME, NAME_ALIASES, User, clean_display_name


class ProfileUpdate(BaseModel):
    """``PATCH /api/auth/me``: only the fields sent change. A new ``email`` is pending until the
    link mailed to it is used; changing it needs ``current_password`` (accounts with one)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str | None, AfterValidator(clean_display_name)] = Field(
        default=None, max_length=MAX_DISPLAY_NAME, validation_alias=NAME_ALIASES
    )
    email: Email | None = None
    current_password: Password | None = None


class ProfileChanged(BaseModel):
    user: User
    pending_email: str | None = Field(
        description="An address waiting for its verification link; the account's email is "
        "still ``user.email`` until then."
    )
    verification_mailed: bool = Field(
        description="Whether a verification link was mailed by this request (false without a "
        "mail server: an administrator can set the address for you instead)."
    )


class EmailVerify(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Token


class EmailVerified(BaseModel):
    email: str


class LoginSession(BaseModel):
    """One sign-in on one device (``GET /api/auth/sessions``)."""

    id: str = Field(description="The session's public id (the ``sid`` of its access tokens).")
    current: bool = Field(description="The session this request was made with.")
    user_agent: str | None
    ip: str | None
    sso_provider: str | None
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, row: UserSession, *, current_id: int | None) -> LoginSession:
        return cls(
            id=row.public_id,
            current=row.id == current_id,
            user_agent=row.user_agent,
            ip=row.ip,
            sso_provider=row.sso_provider,
            created_at=row.created_at,
            last_seen_at=row.last_seen_at,
            expires_at=row.expires_at,
        )
