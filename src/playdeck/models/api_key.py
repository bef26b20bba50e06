"""API keys: long-lived credentials for CI, owned by a user and never stronger than that user.

Only the SHA-256 of the whole key is stored; the plaintext exists once, in the creation response.
The display prefix (the first 8 hex characters after ``pd_``) lets people tell keys apart.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, SecretHash, optional_reference, parent_id


class ApiKey(CreatedAtMixin, Base):
    __tablename__ = "api_keys"
    # Ids are never reused: the audit log names them.
    __table_args__ = ({"sqlite_autoincrement": True},)

    user_id: Mapped[int] = parent_id("users", index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(8), nullable=False)
    key_hash: Mapped[SecretHash]
    # Deleting the project deletes its keys: a restriction must never silently disappear.
    project_id: Mapped[int | None] = optional_reference("projects", index=True)
    # ``None``: every right of the owner; otherwise a non-empty list of scope names.
    scopes: Mapped[list[str] | None] = mapped_column(JSON)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
