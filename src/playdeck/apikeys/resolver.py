"""Turn a presented API key into the principal of its owner, as the owner is right now.

Each request re-reads the key and its owner: revocation, expiry, deactivation and role changes
take effect on the very next request. The key is looked up by the SHA-256 of the whole key
(unique index); the stored hash is then compared in constant time.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from playdeck.apikeys import repository
from playdeck.apikeys.format import is_well_formed
from playdeck.auth.principal import CredentialKind, GlobalRole, Principal
from playdeck.auth.tokens import hash_secret
from playdeck.db import after_commit, after_rollback
from playdeck.kit.clock import utcnow
from playdeck.models import ApiKey, User

logger = logging.getLogger("playdeck.auth")

# last_used_at is written at most this often per key, so a CI job's reads stay reads.
TOUCH_INTERVAL = timedelta(seconds=60)


def is_usable(key: ApiKey, owner: User, now: datetime) -> bool:
    if key.revoked_at is not None or not owner.is_active:
        return False
    return key.expires_at is None or key.expires_at > now


def _touch_later(session: Session, key: ApiKey, now: datetime) -> None:
    """Record the use in its own short transaction once the request's transaction ends, and
    only when the last record is older than a minute: a failure here loses a timestamp, never
    a request.

    Written whether the request then succeeds or is refused (403, 404, a bad report): the key
    was used, and "last used" is how an operator finds out what still relies on a key. Not
    during the request: on SQLite it may hold the write lock this update would wait for.
    """
    if key.last_used_at is not None and now - key.last_used_at < TOUCH_INTERVAL:
        return
    engine = session.get_bind()
    key_id = key.id
    done = False

    def touch() -> None:
        nonlocal done
        if done or not isinstance(engine, Engine):
            return
        done = True
        try:
            with Session(engine) as own:
                repository.touch(own, key_id, at=now, unless_after=now - TOUCH_INTERVAL)
                own.commit()
        except SQLAlchemyError:
            logger.debug("could not record last use of API key %s", key_id, exc_info=True)

    after_commit(session, touch)
    after_rollback(session, touch)


def resolve_key(session: Session, presented: str) -> Principal | None:
    """The owner's principal, carrying the key's restrictions; ``None`` for any key that is
    malformed, unknown, revoked, expired, or whose owner is inactive."""
    if not is_well_formed(presented):
        return None
    digest = hash_secret(presented)
    found = repository.by_hash(session, digest)
    if found is None:
        return None
    key, owner = found
    if not hmac.compare_digest(key.key_hash, digest):
        return None
    now = utcnow()
    if not is_usable(key, owner, now):
        return None
    _touch_later(session, key, now)
    return Principal(
        user_id=owner.id,
        username=owner.username,
        role=GlobalRole(owner.role),
        credential=CredentialKind.API_KEY,
        key_id=key.id,
        key_project_id=key.project_id,
        key_scopes=frozenset(key.scopes or ()),
        service_account=owner.is_service,
    )
