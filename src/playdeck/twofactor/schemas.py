"""Request and response bodies of the two-factor endpoints."""

from __future__ import annotations

from pydantic import BaseModel, Field

from playdeck.auth.schemas import Password

# Long enough for a recovery code typed with spaces; bounded before anything is hashed.
Code = Field(min_length=1, max_length=64)


class SecondFactorLogin(BaseModel):
    challenge: str = Field(min_length=1, max_length=128)
    code: str = Code


class PasswordConfirmation(BaseModel):
    password: Password


class CodeConfirmation(BaseModel):
    code: str = Code


class Enrolment(BaseModel):
    """Shown while enrolment waits for its first code; never again once it is on."""

    secret: str = Field(description="The base32 key, for apps that take it typed in.")
    otpauth_uri: str = Field(description="The otpauth:// URI, for apps that read one.")


class RecoveryCodes(BaseModel):
    recovery_codes: list[str] = Field(
        description="Single-use codes, each signing in once in place of an app code. Shown "
        "only now: keep them somewhere safe."
    )


class TwoFactorStatus(BaseModel):
    available: bool = Field(description="False for single sign-on accounts (their provider's).")
    enabled: bool
    pending: bool = Field(description="Enrolment started, waiting for its first code.")
    recovery_codes_left: int
    required: bool = Field(description="PLAYDECK_REQUIRE_TWO_FACTOR_FOR_ADMINS covers you.")
