"""Which runs a policy removes, and of which it removes the files: pure, no database.

Runs are looked at newest first. A pinned run is outside the policy: never removed, and not
counted in ``keep_last``. Every other run falls under the first branch rule matching its branch
(or the project's limits), and ``keep_last`` counts the runs under the same limits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from playdeck.retention.schemas import Limits, RetentionPolicyIn


@dataclass(frozen=True, slots=True)
class RunFacts:
    id: int
    started_at: datetime
    branch: str | None
    pinned: bool
    files_pruned: bool


@dataclass(slots=True)
class Plan:
    delete: list[int] = field(default_factory=list)
    prune_files: list[int] = field(default_factory=list)


def limits_for(policy: RetentionPolicyIn, branch: str | None) -> tuple[int, Limits]:
    """The limits a run of ``branch`` falls under, with a key naming them (0: the project's)."""
    if branch is not None:
        for index, rule in enumerate(policy.branch_rules, start=1):
            if fnmatchcase(branch, rule.branch):
                return index, rule
    return 0, policy


def _older(started_at: datetime, days: int | None, now: datetime) -> bool:
    return days is not None and started_at < now - timedelta(days=days)


def plan(policy: RetentionPolicyIn, runs: Iterable[RunFacts], *, now: datetime) -> Plan:
    """``runs`` must come newest first (``started_at`` desc, ``id`` desc)."""
    result = Plan()
    seen: Counter[int] = Counter()
    for run in runs:
        if run.pinned:
            continue
        key, limits = limits_for(policy, run.branch)
        position = seen[key]
        seen[key] += 1
        beyond_last = limits.keep_last is not None and position >= limits.keep_last
        if beyond_last or _older(run.started_at, limits.keep_days, now):
            result.delete.append(run.id)
        elif not run.files_pruned and _older(run.started_at, limits.files_days, now):
            result.prune_files.append(run.id)
    return result


def batches(ids: Sequence[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])
