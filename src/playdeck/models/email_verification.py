"""One-time links that prove a user controls an email address (self-service email changes).

Only the SHA-256 of the token is stored; the plaintext exists once, in the mail sent to the
address. A link is used at most once (``used_at`` is set by a conditional update) and never
after ``expires_at``. The newest unused, unexpired row of a user is their pending address.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, OneTimeTokenMixin, parent_id


class EmailVerification(OneTimeTokenMixin, CreatedAtMixin, Base):
    __tablename__ = "email_verifications"
    __table_args__ = ({"sqlite_autoincrement": True},)

    user_id: Mapped[int] = parent_id("users", index=True)
    # The address the link proves (lower-case): the account's email once the link is used.
    email: Mapped[str] = mapped_column(String(254), nullable=False)
