"""Declarative base shared by every table: naming conventions, the ``id`` primary key, UTC
timestamps, and the column shapes several tables share."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from playdeck.kit.clock import utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(column: str, values: Iterable[StrEnum], *, name: str) -> CheckConstraint:
    """``CHECK (column IN (...))`` over an enum's values, in its order (the migrations spell
    the same list; ``tests/test_domain_words.py`` proves the migrated database agrees)."""
    listed = ", ".join(f"'{value.value}'" for value in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


# 64-bit ids on PostgreSQL; SQLite only autoincrements a column declared exactly INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)


def id_column() -> Mapped[int]:
    # First in every table's columns, though ``Base`` declares it (inherited columns come last).
    return mapped_column(BigId, primary_key=True, autoincrement=True, sort_order=-1)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # ``Mapped[datetime]`` is NOT NULL, ``Mapped[datetime | None]`` nullable; both UTC.
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}

    id: Mapped[int] = id_column()


# The SHA-256 (hex) of a secret whose plaintext is never stored: every use looks it up by this.
SecretHash = Annotated[str, mapped_column(String(64), nullable=False, unique=True)]
# Set on insert and on every ORM update.
UpdatedAt = Annotated[datetime, mapped_column(default=utcnow, onupdate=utcnow)]


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OneTimeTokenMixin:
    """A secret that works once, before it expires. Only its hash is stored; ``used_at`` is set
    once, by a conditional UPDATE, so the database decides which of two concurrent uses wins."""

    token_hash: Mapped[SecretHash]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


def parent_id(table: str, *, index: bool | None = None, unique: bool | None = None) -> Mapped[int]:
    """A required reference to a row of ``table``, deleted with it (``ON DELETE CASCADE``)."""
    return mapped_column(
        BigId,
        ForeignKey(f"{table}.id", ondelete="CASCADE"),
        nullable=False,
        index=index,
        unique=unique,
    )


def optional_reference(
    table: str, *, ondelete: str = "CASCADE", index: bool | None = None
) -> Mapped[int | None]:
    """An optional reference to a row of ``table``: deleted with it, or emptied by ``SET NULL``."""
    return mapped_column(BigId, ForeignKey(f"{table}.id", ondelete=ondelete), index=index)
