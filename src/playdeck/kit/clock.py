"""The one place that reads the wall clock, so tests can move time (time-machine)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def from_epoch_ms(value: float) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def to_epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)
