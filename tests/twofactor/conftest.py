"""Users made through the real users service (the authentication tests' factory)."""

from tests.auth.conftest import make_user as make_user

__all__ = ["make_user"]
