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
from typing import Annotated, Literal
from urllib.parse import urlsplit

import limits
from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from playdeck.sso.config import SsoConfig, SsoConfigError
from playdeck.sso.config import load as load_sso_config

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
MIN_METRICS_TOKEN_LENGTH = 16
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
# The databases Playdeck's migrations and queries are written for, and the driver it ships.
DATABASE_BACKENDS = ("sqlite", "postgresql")
POSTGRESQL_DRIVER = "postgresql+psycopg"


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
    content_url: str | None = Field(
        default=None,
        description="Separate origin (another host name) that serves uploaded HTML reports "
        "and attachments; needs PLAYDECK_PUBLIC_URL.",
    )
    trace_viewer_dir: Path | None = Field(
        default=None,
        description="Playwright's Trace Viewer (a `traceViewer` folder of playwright-core); "
        "default: the one the `playwright` package ships, if installed.",
    )
    max_upload_mb: int = Field(
        default=200, ge=1, description="Largest accepted request body, in MiB."
    )
    body_timeout_seconds: float = Field(
        default=30,
        gt=0,
        le=3600,
        description="Longest wait for the next part of a request body (then 408).",
    )
    body_min_rate_kib: int = Field(
        default=10,
        ge=1,
        description="Slowest accepted request body, in KiB/s, after the first "
        "PLAYDECK_BODY_TIMEOUT_SECONDS (then 408).",
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
    ingest_in_worker_process: bool = Field(
        default=True,
        description="Parse and store reports in worker processes (at most "
        "PLAYDECK_MAX_CONCURRENT_INGESTS per server process) instead of a thread of the "
        "serving process, so a big ingest neither stalls other requests nor keeps its memory.",
    )
    max_compression_ratio: int = Field(
        default=200,
        ge=10,
        le=1100,
        description="Highest unpacked:packed ratio of an uploaded archive's entries (over "
        "64 KiB); beyond it the upload is a zip bomb (413).",
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
    live_heartbeat_seconds: int = Field(
        default=300,
        ge=5,
        le=86_400,
        description="A live run's part whose client sent nothing (no batch, no heartbeat) for "
        "this long is closed as interrupted, with every result it sent kept.",
    )
    shard_wait_seconds: int = Field(
        default=3600,
        ge=5,
        le=7 * 86_400,
        description="A sharded run still missing shards this long after its last part arrived "
        "is marked incomplete (a late shard still merges into it).",
    )
    run_sweep_seconds: int = Field(
        default=60,
        ge=0,
        description="How often the server closes stale live parts and marks sharded runs "
        "incomplete (0: never; `playdeck runs sweep` still does).",
    )
    retention_batch_size: int = Field(
        default=50, ge=1, le=10_000, description="Runs deleted per transaction by retention."
    )
    log_level: str = Field(default="info", description="uvicorn/application log level.")
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as text, or one JSON object per line."
    )
    metrics_enabled: bool = Field(
        default=True, description="Serve Prometheus metrics at /metrics (see metrics_token)."
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token /metrics requires; with auth on, /metrics is off without it.",
    )

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
    previous_secret_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Secret keys being retired (comma-separated): stored two-factor secrets "
        "encrypted under them are still read, and re-encrypted under PLAYDECK_SECRET_KEY.",
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
    register_rate_limit: str = Field(
        default="5/hour", description="Registrations per client IP, and the same per email address."
    )
    sensitive_rate_limit: str = Field(
        default="30/minute",
        description="Setup, refresh and password change, per client IP.",
    )
    not_found_rate_limit: str = Field(
        default="120/minute",
        description="404 answers per client IP before 429 (walking ids to find hidden objects).",
    )
    redis_url: str | None = Field(
        default=None, description="Redis URL for shared rate-limit counters (default: in-process)."
    )
    # Single sign-on (docs/security.md, "Single sign-on")
    oidc_config: Path | None = Field(
        default=None,
        description="TOML file of OpenID Connect providers and claim-to-role rules.",
    )
    password_sign_in: bool = Field(
        default=True,
        description="Allow password sign-in; off: only the break-glass admin signs in with one.",
    )
    break_glass_admin: str | None = Field(
        default=None,
        description="Username of the local admin who may sign in with a password while "
        "PLAYDECK_PASSWORD_SIGN_IN is off.",
    )
    _sso: SsoConfig = PrivateAttr(default_factory=SsoConfig)
    # Two-factor authentication (docs/security.md, "Two-factor authentication")
    require_two_factor_for_admins: bool = Field(
        default=False,
        description="Administrators who sign in with a password must use two-factor "
        "authentication; one without it may only enrol until they have.",
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
    # One-time account links and the optional mail server that sends them
    invitation_days: int = Field(
        default=7, ge=1, le=90, description="Days an invitation link stays valid."
    )
    password_reset_hours: int = Field(
        default=24,
        ge=1,
        le=168,
        description="Hours an administrator's password-reset link stays valid.",
    )
    email_verification_hours: int = Field(
        default=24,
        ge=1,
        le=168,
        description="Hours the link that verifies a user's new email stays valid.",
    )
    smtp_host: str | None = Field(
        default=None,
        description="Mail server for invitations and reset links (default: none; the links are "
        "shown to the administrator).",
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Mail server port.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="How the mail connection is protected: starttls, tls (implicit) or none.",
    )
    smtp_username: str | None = Field(default=None, description="Mail server login name.")
    smtp_password: SecretStr | None = Field(default=None, description="Mail server password.")
    smtp_from: str = Field(
        default="playdeck@localhost", description="Sender address of Playdeck's mail."
    )
    smtp_timeout_seconds: float = Field(
        default=10, gt=0, le=120, description="Longest wait for the mail server."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Proxy addresses/networks whose X-Forwarded-For is honoured (comma-separated).",
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        """Accept what people paste (``postgres://``, ``postgresql://``); refuse the rest early."""
        if value is None or not value.strip():
            return None
        value = value.strip()
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "is not a database URL such as postgresql://user:password@host/playdeck "
                "or sqlite:////var/lib/playdeck/playdeck.db"
            ) from None
        backend, _, driver = url.drivername.partition("+")
        if backend == "postgres":  # Heroku's and libpq's spelling; SQLAlchemy wants postgresql
            backend = "postgresql"
        if backend not in DATABASE_BACKENDS:
            raise ValueError(
                f"unsupported database {backend!r}: use postgresql://user:password@host/db "
                "or sqlite:///path/to/playdeck.db"
            )
        drivername = f"{backend}+{driver}" if driver else backend
        if drivername == "postgresql":
            drivername = POSTGRESQL_DRIVER
        if drivername == url.drivername:
            return value
        return url.set(drivername=drivername).render_as_string(hide_password=False)

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.strip().lower()
        if level not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("metrics_token")
    @classmethod
    def _check_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < MIN_METRICS_TOKEN_LENGTH:
            raise ValueError(f"must be at least {MIN_METRICS_TOKEN_LENGTH} characters")
        return value

    # Lists are comma-separated (a key of `openssl rand -hex 32` has no comma).
    @field_validator("trusted_proxies", "previous_secret_keys", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
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
        "not_found_rate_limit",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        try:
            limits.parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit such as '10/minute'") from None
        return value

    @model_validator(mode="after")
    def _check_content_url(self) -> Settings:
        if self.content_url is None:
            return self
        content = urlsplit(self.content_url)
        if content.scheme not in ("http", "https") or not content.netloc:
            raise UnsafeSettingsError("PLAYDECK_CONTENT_URL must be an http(s) URL")
        if not self.public_url:
            raise UnsafeSettingsError("PLAYDECK_CONTENT_URL needs PLAYDECK_PUBLIC_URL as well")
        if urlsplit(self.public_url).netloc.lower() == content.netloc.lower():
            raise UnsafeSettingsError(
                "PLAYDECK_CONTENT_URL must name another host than PLAYDECK_PUBLIC_URL"
            )
        return self

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

    @model_validator(mode="after")
    def _load_sso(self) -> Settings:
        if self.oidc_config is not None:
            try:
                self._sso = load_sso_config(self.oidc_config)
            except SsoConfigError as exc:
                raise UnsafeSettingsError(f"PLAYDECK_OIDC_CONFIG: {exc}") from None
        if not self.password_sign_in and not self._sso.providers:
            raise UnsafeSettingsError(
                "PLAYDECK_PASSWORD_SIGN_IN=false needs single sign-on: set PLAYDECK_OIDC_CONFIG "
                "to a file with at least one provider"
            )
        return self

    @property
    def sso(self) -> SsoConfig:
        """The providers and claim rules of ``oidc_config`` (none when it is unset)."""
        return self._sso

    def password_sign_in_allowed(self, identifier: str) -> bool:
        """Whether a password sign-in as ``identifier`` may be tried at all."""
        if self.password_sign_in:
            return True
        admin = (self.break_glass_admin or "").strip().lower()
        return bool(admin) and identifier.strip().lower() == admin

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
