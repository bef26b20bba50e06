"""The one settings object. Read from ``PLAYDECK_*`` environment variables and ``.env``.

Some settings also accept the names used by the two products Playdeck replaces (the JWT login
API and the PhenX dashboard),
so an existing ``.env`` keeps working: ``REQUIRE_AUTH``, ``NUXT_AUTH_ENABLED``,
``JWT_SECRET_KEY``, ``NUXT_AUTH_SECRET``, ``ALLOW_REGISTRATION``, ``INITIAL_ADMIN_EMAIL``,
``INITIAL_ADMIN_PASSWORD``.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import limits
from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Values people paste from guides and templates; refusing them is the point of requiring a secret.
KNOWN_PLACEHOLDER_SECRETS = frozenset(
    {
        "your-secret-key-here",
        "change-me",
        "changeme",
        "secret",
        "your-secret-key",
        "replace-me",
        "please-change-this-secret",
        "your-super-secret-jwt-key-change-in-production",
        "your-secret-key-change-in-production",
        "change-me-to-a-long-random-string-of-32-chars",
        "changeme-changeme-changeme-changeme",
        "secret-key-for-jwt-tokens-change-in-production",
        "0" * 32,
        "x" * 32,
    }
)
MIN_SECRET_LENGTH = 32
# "aaaa...", "abababab...": long enough but guessable. A hex or base64 secret has far more.
MIN_SECRET_DISTINCT_CHARACTERS = 8


class UnsafeSettingsError(ValueError):
    """The configuration would start an unsafe server; the message is one line for the operator."""


def _env(name: str, *aliases: str) -> AliasChoices:
    return AliasChoices(f"PLAYDECK_{name}", *aliases)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PLAYDECK_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # Server and storage
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Default: a SQLite file in the data directory.",
    )
    data_dir: Path = Field(
        default=Path("playdeck-data"), description="Database file and stored files."
    )
    host: str = Field(default="127.0.0.1", description="Address `playdeck serve` listens on.")
    port: int = Field(default=8001, ge=1, le=65535, description="Port `playdeck serve` listens on.")
    public_url: str | None = Field(
        default=None,
        description="Base URL used in links returned to clients (default: the request's).",
    )
    max_upload_mb: int = Field(
        default=200, ge=1, description="Largest accepted request body, in MiB."
    )
    max_unpacked_mb: int = Field(
        default=1024,
        ge=1,
        description="Largest total unpacked size of one uploaded archive, in MiB.",
    )
    max_archive_entries: int = Field(
        default=20_000, ge=1, description="Most entries accepted in one uploaded archive."
    )
    max_concurrent_ingests: int = Field(
        default=1,
        ge=1,
        description="Ingests parsed and stored at once per process; more wait their turn.",
    )
    auto_create_projects: bool = Field(
        default=True, description="Create a project by name on first submit."
    )
    retention_interval_seconds: int = Field(
        default=3600,
        ge=0,
        description="How often the server applies the projects' retention policies (0: never; "
        "`playdeck prune` still does).",
    )
    retention_batch_size: int = Field(
        default=50, ge=1, le=10_000, description="Runs deleted per transaction by retention."
    )
    log_level: str = Field(default="info", description="uvicorn/application log level.")

    # Authentication (issue: authentication)
    require_auth: bool = Field(
        default=False,
        validation_alias=_env("REQUIRE_AUTH", "REQUIRE_AUTH", "NUXT_AUTH_ENABLED"),
        description="Turn authentication on.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        validation_alias=_env("SECRET_KEY", "JWT_SECRET_KEY", "NUXT_AUTH_SECRET"),
        description="Signing secret (>= 32 chars); required when auth is on.",
    )
    public_read: bool = Field(
        default=False, description="With auth on, let anonymous callers read results."
    )
    allow_registration: bool = Field(
        default=False,
        validation_alias=_env("ALLOW_REGISTRATION", "ALLOW_REGISTRATION"),
        description="Allow self-registration (role `user`).",
    )
    users_can_create_projects: bool = Field(
        default=True, description="Global `user`s may create projects (becoming owner)."
    )
    admin_username: str | None = Field(default=None, description="First admin, created on start.")
    admin_email: str | None = Field(
        default=None,
        validation_alias=_env("ADMIN_EMAIL", "INITIAL_ADMIN_EMAIL"),
        description="First admin's email.",
    )
    admin_password: SecretStr | None = Field(
        default=None,
        validation_alias=_env("ADMIN_PASSWORD", "INITIAL_ADMIN_PASSWORD"),
        description="First admin's password.",
    )
    password_min_length: int = Field(default=15, ge=8, le=1024, description="Shortest password.")
    access_token_minutes: int = Field(default=15, ge=1, description="Access token lifetime.")
    refresh_token_days: int = Field(default=7, ge=1, description="Refresh token lifetime.")
    refresh_reuse_grace_seconds: int = Field(
        default=0, ge=0, le=60, description="Grace window for a benign double refresh."
    )
    session_days: int = Field(default=7, ge=1, description="Browser session lifetime.")
    cookie_secure: bool = Field(default=False, description="Always mark cookies Secure.")
    lockout_attempts: int = Field(default=5, ge=1, description="Failed logins before a lock.")
    lockout_minutes: int = Field(default=15, ge=1, description="Lock duration.")
    login_rate_limit: str = Field(default="10/minute", description="Login attempts per client IP.")
    login_account_rate_limit: str = Field(
        default="20/minute", description="Login attempts per target account."
    )
    register_rate_limit: str = Field(default="5/hour", description="Registrations per client IP.")
    sensitive_rate_limit: str = Field(
        default="30/minute",
        description="Setup, refresh and password change, per client IP.",
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL for shared rate-limit counters (default: in-process)."
    )
    # Bounded waits and storage upkeep (docs/operations.md, "Failure behaviour")
    redis_socket_timeout_seconds: float = Field(
        default=0.5, gt=0, le=30, description="Longest wait for one Redis reply."
    )
    redis_connect_timeout_seconds: float = Field(
        default=0.5, gt=0, le=30, description="Longest wait to connect to Redis."
    )
    redis_max_waiting: int = Field(
        default=8,
        ge=1,
        description="Requests that may wait on Redis at once; more are answered 503 at once.",
    )
    db_connect_timeout_seconds: int = Field(
        default=5, ge=1, description="Longest wait to connect to PostgreSQL."
    )
    db_statement_timeout_seconds: int = Field(
        default=60, ge=0, description="PostgreSQL statement_timeout (0: none)."
    )
    db_lock_timeout_seconds: int = Field(
        default=15,
        ge=1,
        description="Longest wait for a lock: PostgreSQL lock_timeout, SQLite busy timeout.",
    )
    db_pool_timeout_seconds: int = Field(
        default=10, ge=1, description="Longest wait for a pooled database connection."
    )
    storage_grace_seconds: int = Field(
        default=3600,
        ge=0,
        description="A stored file claimed this recently is never deleted (see storage gc).",
    )
    storage_sweep_seconds: int = Field(
        default=3600, ge=0, description="Seconds between storage sweeps (0: no periodic sweep)."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Proxy addresses/networks whose X-Forwarded-For is honoured (comma-separated).",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
        return value

    @field_validator(
        "login_rate_limit",
        "login_account_rate_limit",
        "register_rate_limit",
        "sensitive_rate_limit",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        try:
            limits.parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit such as '10/minute'") from None
        return value

    @model_validator(mode="after")
    def _check_auth_secret(self) -> Settings:
        if not self.require_auth:
            return self
        secret = self.secret_key.get_secret_value() if self.secret_key else ""
        if not secret:
            raise UnsafeSettingsError(
                "PLAYDECK_SECRET_KEY is required when authentication is on "
                "(generate one with: openssl rand -hex 32)"
            )
        if len(secret) < MIN_SECRET_LENGTH:
            raise UnsafeSettingsError(
                f"PLAYDECK_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters"
            )
        if secret.strip().lower() in KNOWN_PLACEHOLDER_SECRETS:
            raise UnsafeSettingsError(
                "PLAYDECK_SECRET_KEY is a known placeholder; generate a real one"
            )
        if len(set(secret)) < MIN_SECRET_DISTINCT_CHARACTERS:
            raise UnsafeSettingsError(
                "PLAYDECK_SECRET_KEY is too predictable; generate one with: openssl rand -hex 32"
            )
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'playdeck.db').resolve()}"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024


@lru_cache
def get_settings() -> Settings:
    """The process's settings; FastAPI routes receive them through ``app.state``."""
    return Settings()
