"""``PLAYDECK_REQUIRE_TWO_FACTOR_FOR_ADMINS``: an administrator who signed in with a password
and has no second factor may enrol one, and do nothing else, until they have.

Sessions that came through single sign-on are exempt (their identity provider is where their
second factor belongs), and so are API keys (made by a signed-in administrator, kept by CI).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from playdeck.auth.principal import GlobalRole
from playdeck.models import User
from playdeck.settings import Settings
from playdeck.twofactor import repository

ENROLMENT_PAGE = "/account/two-factor"
ENROLMENT_REQUIRED_CODE = "two_factor_enrolment_required"
ENROLMENT_REQUIRED = (
    "This server requires administrators to use two-factor authentication: "
    "set it up first (POST /api/auth/two-factor/enrol, or the page /account/two-factor)"
)


def applies_to(settings: Settings, user: User) -> bool:
    """Whether the rule covers ``user`` at all: a local administrator's account."""
    return (
        settings.require_auth
        and settings.require_two_factor_for_admins
        and user.role == GlobalRole.ADMIN
        and user.password_hash is not None
    )


def must_enrol(
    session: Session, settings: Settings, user: User, *, sso_provider: str | None
) -> bool:
    """Whether a password session of ``user`` is held to enrolment (one indexed read, and only
    for administrators while the rule is on)."""
    if sso_provider is not None or not applies_to(settings, user):
        return False
    return not repository.is_enabled(session, user.id)
