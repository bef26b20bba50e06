"""Request and response bodies of the authentication endpoints (the field names of
both products Playdeck replaces, too)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from playdeck.auth.policy import MAX_PASSWORD_BYTES, check_password_size
from playdeck.users.schemas import User

# Bounded in characters by the schema, in bytes by the validator, both before any hashing.
Password = Annotated[
    str, Field(min_length=1, max_length=MAX_PASSWORD_BYTES), AfterValidator(check_password_size)
]
LoginName = Annotated[str, Field(min_length=1, max_length=254)]


class LoginRequest(BaseModel):
    """``{username, password}`` (the PhenX dashboard's) or ``{email, password}`` (the JWT login
    API's)."""

    username: LoginName | None = None
    email: LoginName | None = None
    password: Password

    @model_validator(mode="after")
    def _one_name(self) -> LoginRequest:
        if not (self.username or self.email):
            raise ValueError("give a username or an email")
        return self

    @property
    def identifier(self) -> str:
        return (self.username or self.email or "").strip()


class SetupRequest(BaseModel):
    username: str = Field(min_length=1, max_length=150)
    password: Password
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)


class RegisterRequest(BaseModel):
    email: str = Field(min_length=3, max_length=254)
    password: Password
    full_name: str | None = Field(default=None, max_length=200)
    username: str | None = Field(default=None, max_length=150)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class LogoutRequest(BaseModel):
    refresh_token: str | None = Field(default=None, max_length=512)


class PasswordChange(BaseModel):
    current_password: Password
    new_password: Password


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth 2 token type
    expires_in: int = Field(description="Access token lifetime, in seconds.")
    refresh_expires_in: int = Field(description="Refresh token lifetime, in seconds.")


class LoginResponse(TokenPair):
    user: User
    csrf_token: str = Field(
        description="Send in X-CSRF-Token with unsafe requests authenticated by the cookie."
    )


class Me(BaseModel):
    authenticated: bool
    auth_enabled: bool
    registration_enabled: bool
    credential: str = Field(description="none | session | access_token | api_key")
    role: str | None
    is_superuser: bool
    user: User | None
    csrf_token: str | None = None
    pending_email: str | None = Field(
        default=None, description="A new email waiting for its verification link."
    )
    two_factor_enrolment_required: bool = Field(
        default=False,
        description="True while PLAYDECK_REQUIRE_TWO_FACTOR_FOR_ADMINS holds this administrator "
        "to enrolling a second factor: every other route answers 403 until they have.",
    )
