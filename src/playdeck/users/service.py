"""Users: creation (with the password policy), and the administrative changes the CLI and the
admin API make. Every change is audited; services flush, the caller commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from playdeck.apikeys import repository as api_keys
from playdeck.audit.service import Action, Actor, Trail
from playdeck.auth import repository as sessions
from playdeck.auth.client import ClientInfo
from playdeck.auth.passwords import hash_password
from playdeck.auth.policy import check_password_policy
from playdeck.auth.principal import GLOBAL_ROLES, GlobalRole, Principal
from playdeck.authz.permissions import RoleSource
from playdeck.errors import Conflict, Forbidden, InvalidInput, NotFound
from playdeck.kit.clock import utcnow
from playdeck.kit.pagination import cursor_int, decode_cursor, encode_cursor
from playdeck.members import repository as members
from playdeck.models import User
from playdeck.settings import Settings
from playdeck.users import repository
from playdeck.users.schemas import (
    UserAdminCreate,
    UserAdminUpdate,
    UserKind,
    clean_display_name,
    clean_email,
    clean_username,
)

TAKEN_MESSAGE = "That username or email cannot be used"


def password_epoch(now: datetime | None = None) -> datetime:
    """Whole seconds: access tokens carry ``iat`` in seconds and are compared against it."""
    return (now or utcnow()).replace(microsecond=0)


def _clean(value: str, cleaner: Any, field: str) -> Any:
    try:
        return cleaner(value)
    except ValueError as exc:
        raise InvalidInput(str(exc), code=f"invalid_{field}") from None


def create_user(
    session: Session,
    *,
    settings: Settings,
    username: str,
    password: str | None,
    actor: Actor,
    email: str | None = None,
    display_name: str | None = None,
    role: str = GlobalRole.USER,
    role_source: RoleSource = RoleSource.MANUAL,
    client: ClientInfo | None = None,
    via: str,
    only_if_first: bool = False,
    first_becomes_admin: bool = False,
    first_allowed: bool = True,
    email_verified: bool = True,
) -> User:
    """Create a user, serialised against concurrent creations.

    ``only_if_first`` refuses (409) once any user exists: setup and the start-up admin.
    ``first_becomes_admin`` gives the first account of an empty instance the admin role:
    registration is one of the ways to get the first administrator. ``first_allowed=False``
    refuses (403) to create that first account: a remote caller without the setup token.
    ``password=None``: an account that signs in only through a single-sign-on provider (no
    password signs it in). ``role_source``: ``provider`` when sign-on rules chose the role and
    keep it up to date.
    ``email_verified``: whoever creates the account vouches for its email (an administrator,
    setup, the CLI); self-registration and a project owner's invitation do not (``False``).
    """
    username = _clean(username, clean_username, "username")
    email = _clean(email, clean_email, "email") if email else None
    display_name = _clean(display_name, clean_display_name, "name") if display_name else None
    if role not in GLOBAL_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(GlobalRole)}", code="invalid_role")
    repository.lock_user_creation(session)  # first statement: see lock_user_creation
    is_first = not repository.exists_any(session)
    if only_if_first and not is_first:
        raise Conflict("Setup is already complete: users exist", code="setup_complete")
    if is_first and not first_allowed:
        raise Forbidden(
            "No user exists yet: send the setup token printed in the server log "
            "(X-Setup-Token header or setup_token form field), or set up from the server's "
            "own machine",
            code="setup_token_required",
        )
    if password is not None:
        check_password_policy(
            password, min_length=settings.password_min_length, username=username, email=email
        )
    if first_becomes_admin and is_first:
        role = GlobalRole.ADMIN
    if repository.username_or_email_taken(session, username=username, email=email):
        raise Conflict(TAKEN_MESSAGE, code="user_exists")
    now = utcnow()
    user = repository.add(
        session,
        User(
            username=username,
            email=email,
            email_verified_at=now if email and email_verified else None,
            display_name=display_name,
            role=role,
            role_source=role_source.value,
            is_active=True,
            password_hash=None if password is None else hash_password(password),
            failed_login_attempts=0,
            password_changed_at=password_epoch(now),
            created_at=now,
            updated_at=now,
        ),
    )
    Trail(session, actor, client).record(
        Action.USER_CREATED, user, role=role, via=via, first_user=is_first
    )
    return user


def create_by_admin(
    session: Session,
    *,
    settings: Settings,
    data: UserAdminCreate,
    principal: Principal,
    client: ClientInfo | None,
) -> User:
    """An administrator's new account (the API's and the users page's)."""
    return create_user(
        session,
        settings=settings,
        username=data.username,
        password=data.password,
        email=data.email,
        display_name=data.name,
        role=data.effective_role,
        actor=Actor.of(principal),
        client=client,
        via="admin",
    )


def check_new_password(*, user: User, password: str, settings: Settings) -> None:
    check_password_policy(
        password, min_length=settings.password_min_length, username=user.username, email=user.email
    )


def set_password(session: Session, *, user: User, password: str, settings: Settings) -> None:
    """Replace the password; every token issued before this second stops working. A service
    account has none anyone knows, and never gets one: it would let it sign in."""
    if user.is_service:
        raise Conflict(
            "A service account has no password; it uses its API keys", code="service_account"
        )
    check_new_password(user=user, password=password, settings=settings)
    user.password_hash = hash_password(password)
    user.password_changed_at = password_epoch()
    session.flush()


def unlock(session: Session, *, user: User, actor: Actor, client: ClientInfo | None = None) -> User:
    was_locked = user.locked_until is not None and user.locked_until > utcnow()
    repository.unlock(session, user.id)
    session.refresh(user)
    Trail(session, actor, client).record(Action.USER_UNLOCKED, user, was_locked=was_locked)
    return user


def _cut_off(session: Session, user: User) -> tuple[int, int]:
    """End every session of ``user`` and revoke every API key (the account may be in the wrong
    hands, or must not be used any more): how many of each."""
    ended = sessions.delete_user_sessions(session, user.id)
    return ended, api_keys.revoke_all_of_user(session, user.id, at=utcnow())


def reset_password(
    session: Session, *, user: User, password: str, settings: Settings, actor: Actor
) -> User:
    """An administrator's reset: new password, lock cleared, every session ended and every API
    key revoked (a reset means the account may be in the wrong hands; keys are credentials too)."""
    set_password(session, user=user, password=password, settings=settings)
    repository.unlock(session, user.id)
    ended, revoked = _cut_off(session, user)
    session.refresh(user)
    Trail(session, actor).record(
        Action.USER_PASSWORD_RESET, user, sessions_ended=ended, api_keys_revoked=revoked
    )
    return user


def ensure_another_active_admin(session: Session, *, user: User) -> None:
    """409 when ``user`` is the last active administrator: nobody could administer the
    instance after they are demoted, deactivated or deleted (themselves included). Service
    accounts neither count nor are guarded: nobody signs in as one."""
    if user.role != GlobalRole.ADMIN or not user.is_active or user.is_service:
        return
    if not [other for other in repository.lock_active_admin_ids(session) if other != user.id]:
        raise Conflict(
            "This is the last active administrator; make another user an administrator first",
            code="last_admin",
        )


def deactivate(
    session: Session, *, user: User, actor: Actor, client: ClientInfo | None = None
) -> User:
    """Deactivate: every session ends and every API key is revoked, so tokens already issued
    and keys fail on their next use, and reactivating brings none of them back."""
    ensure_another_active_admin(session, user=user)
    was_active = user.is_active
    user.is_active = False
    session.flush()
    ended, revoked = _cut_off(session, user)
    Trail(session, actor, client).record(
        Action.USER_DEACTIVATED,
        user,
        is_active=[was_active, False],
        sessions_ended=ended,
        api_keys_revoked=revoked,
    )
    return user


def promote_to_admin(
    session: Session,
    *,
    user: User,
    actor: Actor,
    settings: Settings,
    password: str | None = None,
) -> User:
    """Make an existing user an active, unlocked administrator (the CLI's recovery path)."""
    changes = {"role": [user.role, GlobalRole.ADMIN.value], "is_active": [user.is_active, True]}
    if password is not None:  # a reset from the shell: the same consequences as an admin's
        set_password(session, user=user, password=password, settings=settings)
        _cut_off(session, user)
    user.role = GlobalRole.ADMIN
    user.role_source = RoleSource.MANUAL.value  # sign-on rules no longer change it
    user.is_active = True
    session.flush()
    repository.unlock(session, user.id)
    session.refresh(user)
    Trail(session, actor).record(
        Action.USER_UPDATED, user, changes=changes, password_set=password is not None
    )
    return user


def delete_user(
    session: Session, *, user: User, actor: Actor, client: ClientInfo | None = None
) -> None:
    """Delete a user; the cascade ends its sessions, refresh tokens and memberships with it.

    Refused (409) for the last active administrator, and for the only owner of a project
    (every project keeps an owner: make someone else owner first).
    """
    ensure_another_active_admin(session, user=user)
    owned = members.sole_owned_projects(session, user.id)
    if owned:
        shown = ", ".join(owned[:5]) + (", ..." if len(owned) > 5 else "")
        raise Conflict(
            f"{user.username} is the only owner of {shown}; make someone else owner first",
            code="last_owner",
        )
    Trail(session, actor, client).record(Action.USER_DELETED, user, role=user.role)
    repository.delete_user(session, user.id)


def get_user(session: Session, *, user_id: int) -> User:
    user = repository.get(session, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def list_all_users(session: Session) -> list[User]:
    return repository.list_all(session)


def list_users(
    session: Session,
    *,
    q: str | None,
    role: str | None,
    active: bool | None,
    kind: UserKind | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[User], str | None]:
    """A page of users by id; ``kind``: people or service accounts only (``None``: both)."""
    raw = decode_cursor(cursor, arity=1)
    after_id = cursor_int(raw[0]) if raw else None
    q = q.strip() if q else None
    rows = repository.list_page(
        session,
        q=q or None,
        role=role,
        active=active,
        service=None if kind is None else kind.is_service,
        after_id=after_id,
        limit=limit,
    )
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def service_account_projects(session: Session, users: list[User]) -> dict[int, str | None]:
    """Of ``users``, the service accounts by id, each with its project's slug (``None``: a
    global account)."""
    ids = [user.id for user in users if user.is_service]
    return repository.service_account_projects(session, ids) if ids else {}


def update_user(
    session: Session,
    *,
    user: User,
    data: UserAdminUpdate,
    actor: Actor,
    settings: Settings,
    client: ClientInfo | None = None,
) -> User:
    """An administrator's change to an account; only the fields ``data`` carries change.

    Role and activity changes are audited with their old and new values; a new password is a
    reset (every session ends); deactivation ends every session too. An email an
    administrator sets counts as verified: sending the account's current, unverified email
    verifies it (what a user without mail can ask an administrator for).
    """
    sent = data.model_fields_set
    changes: dict[str, list[Any]] = {}
    if "email" in sent:
        email = _clean(data.email, clean_email, "email") if data.email else None
        if email != user.email:
            if email and repository.find_by_email(session, email) is not None:
                raise Conflict(TAKEN_MESSAGE, code="user_exists")
            changes["email"] = [user.email, email]
            user.email = email
            user.email_verified_at = utcnow() if email else None
        elif email and user.email_verified_at is None:
            changes["email_verified"] = [False, True]
            user.email_verified_at = utcnow()
    if "name" in sent:
        name = _clean(data.name, clean_display_name, "name") if data.name else None
        if name != user.display_name:
            changes["name"] = [user.display_name, name]
            user.display_name = name
    role = data.new_role(user.role)
    deactivating = data.is_active is False and user.is_active
    if role != user.role or deactivating:
        ensure_another_active_admin(session, user=user)
    if role != user.role:
        changes["role"] = [user.role, role]
        user.role = role
        user.role_source = RoleSource.MANUAL.value  # sign-on rules no longer change it
    if data.is_active is True and not user.is_active:
        changes["is_active"] = [False, True]
        user.is_active = True
    session.flush()
    if changes:
        Trail(session, actor, client).record(Action.USER_UPDATED, user, changes=changes)
    if data.password is not None:
        reset_password(session, user=user, password=data.password, settings=settings, actor=actor)
    if deactivating:
        deactivate(session, user=user, actor=actor, client=client)
    return user
