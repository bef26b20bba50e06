"""The first administrator from ``PLAYDECK_ADMIN_*`` (or the JWT login API's ``INITIAL_ADMIN_*``).

Runs on every start and does something only while the users table is empty; the password is
never logged. A password the policy refuses stops the start: leaving the instance without an
administrator would leave ``/api/auth/setup`` open to whoever comes first.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from playdeck.audit.service import Actor
from playdeck.errors import Conflict, InvalidInput
from playdeck.settings import Settings, UnsafeSettingsError
from playdeck.users import service as users_service

logger = logging.getLogger("playdeck.auth")

DEFAULT_ADMIN_USERNAME = "admin"


def ensure_initial_admin(factory: sessionmaker[Session], settings: Settings) -> bool:
    """Create the configured administrator if no user exists; ``True`` when one was created."""
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
            return False  # users exist: the settings are ignored from now on
        except InvalidInput as exc:
            raise UnsafeSettingsError(f"PLAYDECK_ADMIN_* rejected: {exc.detail}") from None
        session.commit()
    logger.info("created administrator %r from the PLAYDECK_ADMIN_* settings", username)
    return True
