"""What a one-time account link is for: the one list models, services and pages use."""

from __future__ import annotations

from enum import StrEnum


class LinkPurpose(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose, not a secret

    @property
    def prefix(self) -> str:
        """The token's prefix: lets secret scanners and people tell the links apart."""
        return "pdi_" if self is LinkPurpose.INVITATION else "pdp_"
