"""The pure rules of runs stored in parts: run keys, shard specs, and what a run's status and
counts are once several parts (shards, CI matrix jobs, live batches) have arrived."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from playdeck.errors import InvalidInput
from playdeck.ingest.records import derive_run_status, merge_outcomes
from playdeck.outcomes import (
    CUT_SHORT_STATUSES,
    FAILING_OUTCOMES,
    Outcome,
    PartState,
    RunStatus,
)

MAX_RUN_KEY_CHARS = 200
MAX_SHARDS = 10_000
_RUN_KEY = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")  # printable ASCII, trimmed
_SHARD = re.compile(r"^\s*(\d{1,5})\s*/\s*(\d{1,5})\s*$")
_GREEN = frozenset({Outcome.PASSED, Outcome.FLAKY})


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` of ``total``, counted from 1 (Playwright's ``--shard=2/8``)."""

    index: int
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def run_key(value: str | None) -> str | None:
    """A client's run key, checked: 1 to 200 printable ASCII characters (``None``: none)."""
    if value is None or value == "":
        return None
    if len(value) > MAX_RUN_KEY_CHARS or not _RUN_KEY.match(value):
        raise InvalidInput(
            f"runKey must be 1 to {MAX_RUN_KEY_CHARS} printable ASCII characters",
            code="invalid_run_key",
        )
    return value


def shard(value: str | None) -> Shard | None:
    """``"2/8"`` as a ``Shard``; 422 for anything else (``None`` or empty: no shard)."""
    if value is None or value.strip() == "":
        return None
    match = _SHARD.match(value)
    if match is None:
        raise InvalidInput(
            "shard must be 'current/total', counted from 1 (e.g. 2/8)", code="invalid_shard"
        )
    index, total = int(match.group(1)), int(match.group(2))
    if not 1 <= index <= total <= MAX_SHARDS:
        raise InvalidInput(
            f"shard {index}/{total}: expected 1 <= current <= total <= {MAX_SHARDS}",
            code="invalid_shard",
        )
    return Shard(index, total)


def test_outcome(outcomes: Iterable[Outcome]) -> Outcome:
    """One outcome for a test stored by several parts of a run (a re-run CI job, the same
    test in two matrix jobs): failing in one and green in another is flaky, as a retry that
    passed would be; otherwise the worst wins."""
    seen = set(outcomes)
    if seen & FAILING_OUTCOMES and seen & _GREEN:
        return Outcome.FLAKY
    return merge_outcomes(list(seen))


test_outcome.__test__ = False  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class PartView:
    state: PartState
    shard_index: int | None
    reported_status: RunStatus | None


def missing_shards(parts: Iterable[PartView], shard_total: int | None) -> list[int]:
    """The shards (from 1) of which no part arrived; none when the run is not sharded."""
    if shard_total is None:
        return []
    arrived = {p.shard_index for p in parts}
    return [i for i in range(1, shard_total + 1) if i not in arrived]


def run_status(
    outcomes: list[Outcome], parts: list[PartView], shard_total: int | None
) -> RunStatus:
    """A run's status from its tests' merged outcomes and its parts: ``running`` while a part
    is open or a shard is missing (the sweeper turns the latter into ``incomplete``), cut short
    when a part was, otherwise derived from the tests."""
    if any(p.state is PartState.OPEN for p in parts) or missing_shards(parts, shard_total):
        return RunStatus.RUNNING
    if any(p.state is PartState.INTERRUPTED for p in parts):
        return RunStatus.INTERRUPTED
    reported = next(
        (p.reported_status for p in parts if p.reported_status in CUT_SHORT_STATUSES), None
    )
    return derive_run_status(outcomes, reported)
