"""API-key use cases: create (the plaintext is returned once), list, revoke.

Who may manage whose keys: a global admin anyone's, every other user only their own. Another
user's keys answer 404 to a non-admin, exactly like a user that does not exist, so the API does
not tell which user ids exist. Managing keys needs a password sign-in (session or access token):
a key must not mint or revoke keys, or a restricted key could make itself an unrestricted one.
Services flush; the caller's unit of work commits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from playdeck.apikeys import repository
from playdeck.apikeys.format import display, new_key, prefix_of
from playdeck.apikeys.schemas import ApiKeyCreate
from playdeck.audit.service import Action, Actor, Trail
from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import Principal
from playdeck.auth.tokens import hash_secret
from playdeck.authz.permissions import Permission
from playdeck.authz.service import require_own_or_admin, require_password_sign_in
from playdeck.errors import InvalidInput, NotFound
from playdeck.kit.clock import utcnow
from playdeck.models import ApiKey, Project, User
from playdeck.projects.service import get_project
from playdeck.users import repository as users


@dataclass(frozen=True, slots=True)
class CreatedKey:
    row: ApiKey
    project: Project | None
    key: str  # the plaintext: returned once, never stored


def owner_for(session: Session, *, principal: Principal, user_id: int) -> User:
    """The user whose keys ``principal`` wants to manage, or the refusal (403/404)."""
    require_password_sign_in(principal, to="manage API keys")
    require_own_or_admin(principal, user_id)
    user = users.get(session, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


def _named(key: ApiKey) -> dict[str, object]:
    """How the audit log names a key: never by more than its displayed prefix."""
    return {"key_id": key.id, "prefix": display(key.prefix), "name": key.name}


def create_key(
    session: Session,
    *,
    principal: Principal,
    owner: User,
    data: ApiKeyCreate,
    actor: Actor | None = None,
    client: ClientInfo | None = None,
) -> CreatedKey:
    now = utcnow()
    if data.expires_at is not None and data.expires_at <= now:
        raise InvalidInput("expires_at must be in the future", code="invalid_expiry")
    project = None
    if data.project is not None:
        # A project the creator cannot see answers exactly like one that does not exist.
        project = get_project(
            session, principal=principal, ref=str(data.project), permission=Permission.PROJECT_READ
        )
    key = new_key()
    row = repository.add(
        session,
        ApiKey(
            user_id=owner.id,
            name=data.name,
            prefix=prefix_of(key),
            key_hash=hash_secret(key),
            project_id=project.id if project is not None else None,
            scopes=[scope.value for scope in data.scopes] if data.scopes else None,
            expires_at=data.expires_at,
            created_at=now,
        ),
    )
    Trail.of(session, principal, client, actor=actor).record(
        Action.API_KEY_CREATED,
        owner,
        **_named(row),
        project_id=row.project_id,
        scopes=row.scopes,
        expires_at=row.expires_at.isoformat() if row.expires_at else None,
    )
    return CreatedKey(row=row, project=project, key=key)


def list_keys(session: Session, *, owner: User) -> list[tuple[ApiKey, Project | None]]:
    """Every key of ``owner``, newest first, revoked and expired ones included."""
    return repository.list_for_user(session, owner.id)


def revoke_key(
    session: Session,
    *,
    principal: Principal,
    key: ApiKey,
    owner: User,
    actor: Actor | None = None,
    client: ClientInfo | None = None,
) -> None:
    """Revoke now: the next request with the key is refused. Revoking twice changes nothing."""
    if not repository.revoke(session, key.id, at=utcnow()):
        return
    session.refresh(key)
    Trail.of(session, principal, client, actor=actor).record(
        Action.API_KEY_REVOKED, owner, **_named(key)
    )


def key_of(session: Session, *, owner: User, key_id: int) -> ApiKey:
    key = repository.get_for_user(session, key_id=key_id, user_id=owner.id)
    if key is None:
        raise NotFound("API key not found")
    return key


# --- the API's use cases: who may manage whose keys, then the work ---------------------------


def list_user_keys(
    session: Session, *, principal: Principal, user_id: int
) -> list[tuple[ApiKey, Project | None]]:
    return list_keys(session, owner=owner_for(session, principal=principal, user_id=user_id))


def create_user_key(
    session: Session,
    *,
    principal: Principal,
    user_id: int,
    data: ApiKeyCreate,
    client: ClientInfo,
) -> CreatedKey:
    owner = owner_for(session, principal=principal, user_id=user_id)
    return create_key(session, principal=principal, owner=owner, data=data, client=client)


def revoke_user_key(
    session: Session, *, principal: Principal, user_id: int, key_id: int, client: ClientInfo
) -> None:
    owner = owner_for(session, principal=principal, user_id=user_id)
    key = key_of(session, owner=owner, key_id=key_id)
    revoke_key(session, principal=principal, key=key, owner=owner, client=client)
