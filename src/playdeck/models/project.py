from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin


class Project(CreatedAtMixin, Base):
    __tablename__ = "projects"

    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    slug: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    # The branch flakiness, failure classification and comparisons are measured against;
    # ``None``: the branch most recent runs were on (``runs.analytics.service.default_branch``).
    default_branch: Mapped[str | None] = mapped_column(String(300))
