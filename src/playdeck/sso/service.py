"""Signing in through an OpenID provider: find, link or provision the account, apply the claim
rules, start the same login session a password sign-in starts.

Who a sign-on is: the provider's ``(provider, sub)`` pair, never an email. A first sign-on may
take over an existing local account only through an email the provider marks verified, that the
account itself has verified (``users.email_verified_at``), and only where the administrator
allowed it for that provider (``link_existing_accounts``). Refusals
that matter for an investigation are audited and committed (``.recorded()``).
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import Any, NoReturn

from sqlalchemy.orm import Session

from playdeck.audit import service as audit
from playdeck.audit.service import Action, Actor
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import GlobalRole
from playdeck.auth.service import Attempt
from playdeck.auth.sessions import IssuedLogin, start_session
from playdeck.authz.permissions import RoleSource
from playdeck.kit.clock import utcnow
from playdeck.models import User, UserIdentity
from playdeck.observability.metrics import LOGIN_FAILURES
from playdeck.settings import Settings
from playdeck.sso import client as oidc
from playdeck.sso import repository, roles
from playdeck.sso.client import Pending, ProviderClients, SignedOn, SignOnRefused
from playdeck.sso.config import Provider
from playdeck.users import repository as users
from playdeck.users.service import password_epoch

logger = logging.getLogger("playdeck.sso")

USERNAME_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")
MAX_USERNAME = 150


def verified_email(provider: Provider, claims: dict[str, Any]) -> str | None:
    """The claims' email when the provider vouches for it (``email_verified``, or a provider
    configured to issue only verified emails), lower-cased; else ``None``."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email or len(email) > 254:
        return None
    verified = claims.get("email_verified")
    if verified is True or verified == "true" or provider.trust_email:
        return email.strip().lower()
    return None


def _refuse(
    session: Session,
    *,
    signed_on: SignedOn,
    client: ClientInfo,
    reason: str,
    detail: str,
    status: int = 403,
    target: User | None = None,
) -> NoReturn:
    LOGIN_FAILURES.labels(reason=f"sso_{reason}").inc()
    audit.record_refusal(
        session,
        Action.LOGIN_FAILED,
        target=target,
        client=client,
        details={"via": f"sso:{signed_on.provider}", "reason": reason},
    )
    raise SignOnRefused(detail, code=f"sso_{reason}", status=status).recorded()


def _check_domain(
    session: Session, provider: Provider, signed_on: SignedOn, email: str | None, client: ClientInfo
) -> None:
    if not provider.allowed_domains:
        return
    domain = email.rpartition("@")[2] if email else None
    if domain not in provider.allowed_domains:
        _refuse(
            session,
            signed_on=signed_on,
            client=client,
            reason="domain_not_allowed",
            detail="Your organisation's email domain may not sign in to this Playdeck.",
        )


def _free_username(session: Session, wanted: str) -> str:
    base = USERNAME_UNSAFE.sub("-", wanted).strip(".-_@+")[: MAX_USERNAME - 6] or "user"
    candidate = base
    while users.username_or_email_taken(session, username=candidate, email=None):
        candidate = f"{base}-{secrets.randbelow(10_000):04d}"
    return candidate


def _provision(
    session: Session,
    *,
    provider: Provider,
    signed_on: SignedOn,
    email: str | None,
    role: GlobalRole,
    client: ClientInfo,
) -> User:
    claims = signed_on.claims
    wanted = claims.get(provider.username_claim)
    if not isinstance(wanted, str) or not wanted:
        wanted = email.partition("@")[0] if email else f"{provider.name}-{signed_on.subject}"
    now = utcnow()
    name = claims.get("name")
    user = users.add(
        session,
        User(
            username=_free_username(session, wanted),
            email=email,
            email_verified_at=now if email else None,  # the provider vouched for it
            display_name=name[:200] if isinstance(name, str) and name else None,
            role=role.value,
            role_source=RoleSource.PROVIDER.value,
            is_active=True,
            password_hash=None,  # signs in only through the provider
            password_changed_at=password_epoch(now),
            created_at=now,
            updated_at=now,
        ),
    )
    audit.record(
        session,
        action=Action.USER_CREATED,
        actor=Actor.system(f"sso:{provider.name}"),
        target=user,
        client=client,
        details={"role": role.value, "via": f"sso:{provider.name}"},
    )
    return user


def _ensure_active(session: Session, user: User, signed_on: SignedOn, client: ClientInfo) -> None:
    if not user.is_active:
        _refuse(
            session,
            signed_on=signed_on,
            client=client,
            reason="inactive",
            detail="This account is deactivated.",
            target=user,
        )


def _first_sign_on(
    session: Session,
    *,
    settings: Settings,
    provider: Provider,
    signed_on: SignedOn,
    email: str | None,
    client: ClientInfo,
) -> User:
    existing = users.find_by_email(session, email) if email else None
    claimed = signed_on.claims.get("email")
    if existing is None and isinstance(claimed, str) and email is None:
        # An unverified email that names an existing account: never a link, never a twin.
        existing_unverified = users.find_by_email(session, claimed)
        if existing_unverified is not None:
            _refuse(
                session,
                signed_on=signed_on,
                client=client,
                reason="email_unverified",
                detail="Your provider has not verified your email, so it cannot be linked "
                "to the existing Playdeck account that uses it.",
                target=existing_unverified,
            )
    if existing is not None:
        if not provider.link_existing_accounts:
            _refuse(
                session,
                signed_on=signed_on,
                client=client,
                reason="account_exists",
                detail="A Playdeck account already uses this email; an administrator must "
                "allow linking it to this provider.",
                status=409,
                target=existing,
            )
        if existing.email_verified_at is None:
            # The account's own email was never proven: whoever typed it may not own it.
            _refuse(
                session,
                signed_on=signed_on,
                client=client,
                reason="local_email_unverified",
                detail="A Playdeck account uses this email but has not verified it, so it "
                "cannot be linked: verify it on that account's page, or ask an administrator.",
                status=409,
                target=existing,
            )
        _ensure_active(session, existing, signed_on, client)  # before anything is linked
        audit.record(
            session,
            action=Action.USER_UPDATED,
            actor=Actor.system(f"sso:{provider.name}"),
            target=existing,
            client=client,
            details={"linked": f"sso:{provider.name}"},
        )
        return existing
    if not provider.provision_users:
        _refuse(
            session,
            signed_on=signed_on,
            client=client,
            reason="not_provisioned",
            detail="There is no Playdeck account for you; ask an administrator.",
        )
    role = roles.global_role(settings.sso.rules, signed_on.claims, provider.name) or GlobalRole.USER
    return _provision(
        session, provider=provider, signed_on=signed_on, email=email, role=role, client=client
    )


def sign_in(
    session: Session,
    *,
    settings: Settings,
    provider: Provider,
    signed_on: SignedOn,
    client: ClientInfo,
) -> IssuedLogin:
    """Sign in the person the provider vouched for; their session is a password sign-in's."""
    email = verified_email(provider, signed_on.claims)
    users.claim_sqlite_write_lock(session)
    _check_domain(session, provider, signed_on, email, client)
    found = repository.identity(session, provider=provider.name, subject=signed_on.subject)
    if found is None:
        user = _first_sign_on(
            session,
            settings=settings,
            provider=provider,
            signed_on=signed_on,
            email=email,
            client=client,
        )
        identity = repository.add_identity(
            session,
            UserIdentity(user_id=user.id, provider=provider.name, subject=signed_on.subject),
        )
    else:
        identity, user = found
        _ensure_active(session, user, signed_on, client)
    now = utcnow()
    identity.email = email
    identity.last_login_at = now
    roles.apply(
        session,
        user=user,
        rules=settings.sso.rules,
        claims=signed_on.claims,
        provider=provider.name,
        client=client,
    )
    users.record_success(session, user.id, at=now)
    issued = start_session(
        session, user=user, settings=settings, client=client, sso_provider=provider.name
    )
    audit.record(
        session,
        action=Action.LOGIN_SUCCEEDED,
        actor=Actor.user(user),
        target=user,
        client=client,
        details={"session_id": issued.session_id, "via": f"sso:{provider.name}"},
    )
    return issued


def complete_sign_on(
    session: Session,
    *,
    attempt: Attempt,
    clients: ProviderClients,
    provider: Provider,
    pending: Pending,
    redirect_uri: str,
    state: str,
    code: str,
) -> IssuedLogin:
    """The callback's work: check the provider's answer (``client.complete``), then sign in.

    Rate-limited per client IP like the other sensitive paths; a refused answer (wrong state,
    a used code, an invalid ID token) is audited as a failed login, as a wrong password is.
    The provider is called before the database is touched.
    """
    attempt.limits.check_sensitive("sso", ip=attempt.client.ip)
    try:
        signed_on = oidc.complete(
            clients, provider, pending, redirect_uri=redirect_uri, state=state, code=code
        )
    except SignOnRefused as refused:
        if refused.status >= 500:
            raise  # the provider is unreachable: nobody's attempt failed
        LOGIN_FAILURES.labels(reason=refused.code).inc()
        audit.record_refusal(
            session,
            Action.LOGIN_FAILED,
            client=attempt.client,
            details={"via": f"sso:{provider.name}", "reason": refused.code},
        )
        raise refused.recorded() from None
    return sign_in(
        session,
        settings=attempt.settings,
        provider=provider,
        signed_on=signed_on,
        client=attempt.client,
    )
