"""The first administrator from ``PLAYDECK_ADMIN_*`` (or the JWT login API's ``INITIAL_ADMIN_*``).

Runs on every start and does something only while the users table is empty; the password is
never logged. A password the policy refuses stops the start: leaving the instance without an
administrator would leave ``/api/auth/setup`` open to whoever comes first.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from playdeck.audit.service import AUTH_OFF_ACTOR, Actor
from playdeck.errors import Conflict, InvalidInput
from playdeck.models import AuditEvent, User
from playdeck.settings import Settings, UnsafeSettingsError
from playdeck.users import repository as users_repository
from playdeck.users import service as users_service

logger = logging.getLogger("playdeck.auth")

DEFAULT_ADMIN_USERNAME = "admin"


def ensure_initial_admin(factory: sessionmaker[Session], settings: Settings) -> bool:
    """Create the configured administrator if no user exists; ``True`` when one was created.

    With authentication on, also report (loudly) accounts that were created or changed while it
    was off: anyone who could reach the server then could have made them.
    """
    if settings.require_auth:
        with factory() as session:
            report_users_from_unauthenticated_time(session)
    if settings.admin_password is None:
        if settings.admin_username or settings.admin_email:
            logger.warning("PLAYDECK_ADMIN_PASSWORD is not set; no administrator created")
        return False
    username = settings.admin_username or DEFAULT_ADMIN_USERNAME
    with factory() as session:
        try:
            users_service.create_user(
                session,
                settings=settings,
                username=username,
                password=settings.admin_password.get_secret_value(),
                email=settings.admin_email,
                role="admin",
                actor=Actor.system("environment"),
                via="environment",
                only_if_first=True,
            )
        except Conflict:
            # Users exist: the settings act only on an empty instance. Say so, not silently.
            logger.warning(
                "PLAYDECK_ADMIN_* are set but users already exist, so no administrator %r was "
                "created (the variables act only on an empty instance; use `playdeck users "
                "create-admin` to add or promote one)",
                username,
            )
            return False
        except InvalidInput as exc:
            raise UnsafeSettingsError(f"PLAYDECK_ADMIN_* rejected: {exc.detail}") from None
        session.commit()
    logger.info("created administrator %r from the PLAYDECK_ADMIN_* settings", username)
    return True


def report_users_from_unauthenticated_time(session: Session) -> list[str]:
    """Warn about existing accounts created or changed by the built-in administrator (that is,
    while authentication was off); returns their descriptions."""
    rows = session.execute(
        select(User.id, User.username, User.role)
        .where(
            User.id.in_(
                select(AuditEvent.target_id).where(
                    AuditEvent.target_type == "user",
                    AuditEvent.actor_type == "system",
                    AuditEvent.actor_name == AUTH_OFF_ACTOR,
                    AuditEvent.action.like("user.%"),
                )
            )
        )
        .order_by(User.id)
    ).all()
    found = [f"{name} (id {user_id}, {role})" for user_id, name, role in rows]
    if found:
        logger.warning(
            "SECURITY: %d existing account(s) were created or changed while authentication was "
            "off, by anyone who could reach the server: %s. Check them (`playdeck users list`, "
            "`playdeck audit --action 'user.*'`) and deactivate any you do not recognise.",
            len(found),
            ", ".join(found),
        )
    return found


def no_users_yet(factory: sessionmaker[Session]) -> bool:
    with factory() as session:
        return not users_repository.exists_any(session)
