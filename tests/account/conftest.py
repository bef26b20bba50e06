"""Self-service tests: users made through the real service (``tests.auth``'s factory), the
auth-on app (the root conftest's ``auth_client``), and a real SMTP server (aiosmtpd, the
invitation mail tests' fixture)."""

from __future__ import annotations

from tests.auth.conftest import make_user
from tests.invitations.test_mail import smtp_server

__all__ = ["make_user", "smtp_server"]
