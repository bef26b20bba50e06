"""The single-sign-on configuration file (``PLAYDECK_OIDC_CONFIG``, TOML): providers and the
rules that turn a provider's claims into roles. Validated whole when the settings load, so a
mistake stops the server at start with one line, not at someone's first sign-in.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from playdeck.auth.principal import GlobalRole
from playdeck.authz.permissions import ProjectRole

PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")


class SsoConfigError(ValueError):
    """The file is missing, unreadable or invalid; the message is one line for the operator."""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_issuer(value: str) -> str:
    """An issuer is an https URL (plain http only on this machine's loopback, for tests)."""
    parts = urlsplit(value)
    if parts.query or parts.fragment or not parts.hostname:
        raise ValueError(f"issuer {value!r} is not a URL without query or fragment")
    if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname)):
        raise ValueError(f"issuer {value!r} must use https")
    return value  # compared exactly with the discovery document's and each token's ``iss``


class Provider(BaseModel):
    """One OpenID provider (Keycloak realm, Entra ID tenant, Google, GitLab, Okta, Dex...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=PROVIDER_NAME.pattern)]
    label: Annotated[str, Field(min_length=1, max_length=80)]
    issuer: str
    client_id: Annotated[str, Field(min_length=1, max_length=255)]
    client_secret: SecretStr | None = None
    # The secret may stay out of the file: the name of an environment variable holding it.
    client_secret_env: str | None = None
    scopes: list[Annotated[str, Field(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]+$")]] = Field(
        default_factory=lambda: ["openid", "email", "profile"]
    )
    # New accounts only for emails in these domains (empty: any domain the provider vouches).
    allowed_domains: list[str] = Field(default_factory=list)
    # Link a first sign-in to an existing local account with the same, provider-verified email.
    link_existing_accounts: bool = False
    # The provider issues only emails it verified, though it sends no ``email_verified`` claim
    # (Entra ID: a single-tenant directory whose addresses the organisation manages).
    trust_email: bool = False
    # Create accounts on first sign-in (off: only linked or pre-existing identities sign in).
    provision_users: bool = True
    # The claim that holds the username to propose for a new account.
    username_claim: str = "preferred_username"

    @model_validator(mode="after")
    def _check(self) -> Provider:
        object.__setattr__(self, "issuer", check_issuer(self.issuer))
        if "openid" not in self.scopes:
            raise ValueError(f"provider {self.name!r}: scopes must include 'openid'")
        domains = [d.strip().lower() for d in self.allowed_domains]
        for domain in domains:
            if not DOMAIN.match(domain):
                raise ValueError(f"provider {self.name!r}: {domain!r} is not a domain name")
        object.__setattr__(self, "allowed_domains", domains)
        if self.client_secret is None and self.client_secret_env is None:
            raise ValueError(f"provider {self.name!r}: set client_secret or client_secret_env")
        return self

    def secret(self) -> str:
        if self.client_secret is not None:
            return self.client_secret.get_secret_value()
        value = os.environ.get(self.client_secret_env or "", "")
        if not value:
            raise SsoConfigError(
                f"provider {self.name!r}: environment variable {self.client_secret_env} is empty"
            )
        return value


class RoleRule(BaseModel):
    """When the claim ``claim`` holds ``value`` (a string, or a list containing it): grant
    ``global_role``, or ``project_role`` in ``project`` (a project's name)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: Annotated[str, Field(min_length=1, max_length=100)] = "groups"
    value: Annotated[str, Field(min_length=1, max_length=255)]
    provider: str | None = None  # only for sign-ins through this provider
    global_role: GlobalRole | None = None
    project: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    project_role: ProjectRole | None = None

    @model_validator(mode="after")
    def _check(self) -> RoleRule:
        grants_project = self.project is not None or self.project_role is not None
        if grants_project and (self.project is None or self.project_role is None):
            raise ValueError(f"rule for {self.value!r}: give both project and project_role")
        if grants_project == (self.global_role is not None):
            raise ValueError(
                f"rule for {self.value!r}: give either global_role or project and project_role"
            )
        return self

    def matches(self, claims: dict[str, Any], provider: str) -> bool:
        if self.provider is not None and self.provider != provider:
            return False
        held = claims.get(self.claim)
        if isinstance(held, list):
            return self.value in held
        return held == self.value


class SsoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    providers: list[Provider] = Field(default_factory=list)
    rules: list[RoleRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> SsoConfig:
        names = [p.name for p in self.providers]
        if len(set(names)) != len(names):
            raise ValueError("two providers have the same name")
        for rule in self.rules:
            if rule.provider is not None and rule.provider not in names:
                raise ValueError(
                    f"rule for {rule.value!r} names unknown provider {rule.provider!r}"
                )
        return self

    def origins(self) -> list[str]:
        """The providers' origins (scheme, host, port), where signing out may send a browser."""
        found = []
        for provider in self.providers:
            parts = urlsplit(provider.issuer)
            found.append(f"{parts.scheme}://{parts.netloc}")
        return found

    def provider(self, name: str) -> Provider | None:
        return next((p for p in self.providers if p.name == name), None)


def load(path: Path) -> SsoConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SsoConfigError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SsoConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        config = SsoConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise SsoConfigError(f"{path}: {where}: {first['msg']}") from None
    for provider in config.providers:
        provider.secret()  # a missing secret is a start-up error, not a sign-in error
    return config
