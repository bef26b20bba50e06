"""Signing in through an OpenID provider: find, link or provision the account, apply the claim
rules, start the same login session a password sign-in starts.

Who a sign-on is: the provider's ``(provider, sub)`` pair, never an email. A first sign-on may
take over an existing local account only through an email the provider marks verified, that the
account itself has verified (``users.email_verified_at``), and only where the administrator
allowed it for that provider (``link_existing_accounts``). Refusals
that matter for an investigation are audited and committed (``.recorded()``).

A sign-on may also accept an invitation (``accept_invitation``): the account is the
invitation's (its email must be the provider-verified one, its role and memberships are
granted by ``invitations.service.redeem_invitation``), made even where the provider does not
provision accounts; the domain allowlist still applies. Every refusal happens before the
invitation is claimed, so a refused sign-on leaves it usable.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy.orm import Session

from playdeck.audit import service as audit
from playdeck.audit.service import Action, Actor, Trail
from playdeck.auth.attempt import Attempt
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import GlobalRole
from playdeck.auth.sessions import IssuedLogin
from playdeck.auth.signin import signed_in
from playdeck.authz.permissions import RoleSource
from playdeck.errors import Conflict
from playdeck.invitations import service as invitations
from playdeck.invitations.service import Invitee
from playdeck.kit.clock import utcnow
from playdeck.models import User, UserIdentity
from playdeck.observability.metrics import LOGIN_FAILURES
from playdeck.settings import Settings
from playdeck.sso import client as oidc
from playdeck.sso import repository, roles
from playdeck.sso.client import Callback, ProviderClients, SignedOn, SignOnRefused
from playdeck.sso.config import Provider
from playdeck.users import repository as users
from playdeck.users import service as users_service
from playdeck.users.schemas import clean_display_name, clean_email

logger = logging.getLogger("playdeck.sso")

USERNAME_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")
MAX_USERNAME = 150


def verified_email(provider: Provider, claims: dict[str, Any]) -> str | None:
    """The claims' email when the provider vouches for it (``email_verified``, or a provider
    configured to issue only verified emails), normalised as every account's email is; else
    ``None`` (also for an address Playdeck would not store)."""
    email = claims.get("email")
    verified = claims.get("email_verified")
    if not isinstance(email, str) or not (
        verified is True or verified == "true" or provider.trust_email
    ):
        return None
    try:
        return clean_email(email)
    except ValueError:
        return None


def _display_name(claims: dict[str, Any]) -> str | None:
    name = claims.get("name")
    try:
        return clean_display_name(name[:200]) if isinstance(name, str) else None
    except ValueError:
        return None  # control characters: the account goes without


@dataclass(frozen=True, slots=True)
class _SignOn:
    """One sign-on being settled: who vouched (``provider``), for whom (``signed_on``), the
    email it vouches for (verified, normalised, or ``None``) and the request's client."""

    attempt: Attempt
    provider: Provider
    signed_on: SignedOn
    email: str | None

    @classmethod
    def of(cls, attempt: Attempt, provider: Provider, signed_on: SignedOn) -> _SignOn:
        return cls(attempt, provider, signed_on, verified_email(provider, signed_on.claims))

    @property
    def settings(self) -> Settings:
        return self.attempt.settings

    @property
    def client(self) -> ClientInfo:
        return self.attempt.client

    @property
    def via(self) -> str:
        return f"sso:{self.provider.name}"


def _refuse(
    session: Session,
    at: _SignOn,
    *,
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
        client=at.client,
        details={"via": at.via, "reason": reason},
    )
    raise SignOnRefused(detail, code=f"sso_{reason}", status=status).recorded()


def _check_domain(session: Session, at: _SignOn) -> None:
    if not at.provider.allowed_domains:
        return
    domain = at.email.rpartition("@")[2] if at.email else None
    if domain not in at.provider.allowed_domains:
        _refuse(
            session,
            at,
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
    session: Session, at: _SignOn, *, email: str | None, role: GlobalRole, source: RoleSource
) -> User:
    """A new account without a password (it signs in only through the provider), made by the
    one user factory (``users.service.create_user``: normalisation, uniqueness, audit)."""
    claims, provider = at.signed_on.claims, at.provider
    wanted = claims.get(provider.username_claim)
    if not isinstance(wanted, str) or not wanted:
        wanted = email.partition("@")[0] if email else f"{provider.name}-{at.signed_on.subject}"
    return users_service.create_user(
        session,
        settings=at.settings,
        username=_free_username(session, wanted),
        password=None,
        email=email,
        display_name=_display_name(claims),
        role=role,
        role_source=source,
        actor=Actor.system(at.via),
        client=at.client,
        via=at.via,
    )


def _ensure_active(session: Session, at: _SignOn, user: User) -> None:
    if not user.is_active:
        _refuse(session, at, reason="inactive", detail="This account is deactivated.", target=user)


def _first_sign_on(session: Session, at: _SignOn) -> User:
    existing = users.find_by_email(session, at.email) if at.email else None
    claimed = at.signed_on.claims.get("email")
    if existing is None and isinstance(claimed, str) and at.email is None:
        # An unverified email that names an existing account: never a link, never a twin.
        existing_unverified = users.find_by_email(session, claimed)
        if existing_unverified is not None:
            _refuse(
                session,
                at,
                reason="email_unverified",
                detail="Your provider has not verified your email, so it cannot be linked "
                "to the existing Playdeck account that uses it.",
                target=existing_unverified,
            )
    if existing is not None:
        if not at.provider.link_existing_accounts:
            _refuse(
                session,
                at,
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
                at,
                reason="local_email_unverified",
                detail="A Playdeck account uses this email but has not verified it, so it "
                "cannot be linked: verify it on that account's page, or ask an administrator.",
                status=409,
                target=existing,
            )
        _ensure_active(session, at, existing)  # before anything is linked
        trail = Trail(session, Actor.system(at.via), at.client)
        trail.record(Action.USER_UPDATED, existing, linked=at.via)
        return existing
    if not at.provider.provision_users:
        _refuse(
            session,
            at,
            reason="not_provisioned",
            detail="There is no Playdeck account for you; ask an administrator.",
        )
    rules, claims = at.settings.sso.rules, at.signed_on.claims
    role = roles.global_role(rules, claims, at.provider.name) or GlobalRole.USER
    return _provision(session, at, email=at.email, role=role, source=RoleSource.PROVIDER)


def _link(session: Session, at: _SignOn, user: User) -> UserIdentity:
    return repository.add_identity(
        session,
        UserIdentity(user_id=user.id, provider=at.provider.name, subject=at.signed_on.subject),
    )


def _start_session(
    session: Session, at: _SignOn, user: User, identity: UserIdentity
) -> IssuedLogin:
    """What every sign-on ends with: the identity's last use, the claim rules, the same login
    session and audit event as a password sign-in's."""
    now = utcnow()
    identity.email = at.email
    identity.last_login_at = now
    roles.apply(
        session,
        user=user,
        rules=at.settings.sso.rules,
        claims=at.signed_on.claims,
        provider=at.provider.name,
        client=at.client,
    )
    return signed_in(
        session,
        attempt=at.attempt,
        user=user,
        now=now,
        sso_provider=at.provider.name,
        via=at.via,
    )


def sign_in(session: Session, at: _SignOn) -> IssuedLogin:
    """Sign in the person the provider vouched for; their session is a password sign-in's."""
    users.claim_sqlite_write_lock(session)
    _check_domain(session, at)
    found = repository.identity(session, provider=at.provider.name, subject=at.signed_on.subject)
    if found is None:
        user = _first_sign_on(session, at)
        identity = _link(session, at, user)
    else:
        identity, user = found
        _ensure_active(session, at, user)
    return _start_session(session, at, user, identity)


def accept_invitation(session: Session, at: _SignOn, invitation: str) -> IssuedLogin:
    """Accept the invitation ``invitation`` (its key) as the person the provider vouched for:
    a new account with the invitation's role and memberships, linked to this identity, signed
    in. Refused (before the invitation is claimed) when the invitation cannot be used any more,
    names another email than the provider's verified one, the email's domain is not allowed,
    or the person already has an account here."""
    users.claim_sqlite_write_lock(session)
    _check_domain(session, at)
    link = invitations.pending_invitation(session, key=invitation)
    if link.email is not None and link.email != at.email:
        _refuse(
            session,
            at,
            reason="invitation_email_mismatch",
            detail="This invitation is for another email address than the one your provider "
            "verified for you.",
        )
    if repository.identity(session, provider=at.provider.name, subject=at.signed_on.subject):
        raise Conflict(
            "You already have a Playdeck account through this provider: sign in with it, and "
            "ask for access to the projects instead.",
            code="sso_invitation_account_exists",
        )

    def through_provider(invitee: Invitee) -> User:
        # The inviter chose the role: manual, so the claim rules leave it alone.
        email = invitee.email or at.email
        return _provision(session, at, email=email, role=invitee.role, source=RoleSource.MANUAL)

    user = invitations.redeem_invitation(
        session, key=invitation, make_account=through_provider, client=at.client
    )
    return _start_session(session, at, user, _link(session, at, user))


def complete_sign_on(
    session: Session,
    *,
    attempt: Attempt,
    clients: ProviderClients,
    provider: Provider,
    callback: Callback,
    invitation: str | None = None,
) -> IssuedLogin:
    """The callback's work: check the provider's answer (``client.complete``), then sign in
    (accepting ``invitation``, the key of the invitation the sign-in started from, if any).

    Rate-limited per client IP like the other sensitive paths; a refused answer (wrong state,
    a used code, an invalid ID token) is audited as a failed login, as a wrong password is.
    The provider is called before the database is touched.
    """
    attempt.limits.check_sensitive("sso", ip=attempt.client.ip)
    try:
        signed_on = oidc.complete(clients, provider, callback)
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
    at = _SignOn.of(attempt, provider, signed_on)
    if invitation is not None:
        return accept_invitation(session, at, invitation)
    return sign_in(session, at)
