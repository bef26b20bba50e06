from __future__ import annotations

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from playdeck.models.base import Base, CreatedAtMixin, parent_id


class Test(CreatedAtMixin, Base):
    """A test's stable identity inside a project: file + describe path + title + browser project."""

    __tablename__ = "tests"
    __test__ = False  # not a pytest test class
    __table_args__ = (
        UniqueConstraint("project_id", "key"),
        Index("ix_tests_project_title", "project_id", "full_title"),
    )

    project_id: Mapped[int] = parent_id("projects")
    key: Mapped[str] = mapped_column(String(64), nullable=False)
    file: Mapped[str] = mapped_column(Text, nullable=False)
    title_path: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    full_title: Mapped[str] = mapped_column(Text, nullable=False)
    browser_project: Mapped[str] = mapped_column(String(200), nullable=False, default="")
