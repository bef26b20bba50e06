"""The writes of runs stored in parts: an upload naming a run key merges into the run of that
key (created by the first to arrive), a live part receives batches until it is closed.

Race-free on several instances: the run of a key is created under the unique constraint on
``(project_id, run_key)`` (a concurrent creator waits on the index, then finds the winner's
run), and every change to a run in parts first locks its row (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite has one writer), so counts and status are computed over every part that
committed before, never over a half-seen set.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from playdeck.errors import Conflict, InvalidInput, NotFound
from playdeck.ingest.live.shards import PartView, Shard, run_status, test_outcome
from playdeck.ingest.records import RunRecord
from playdeck.ingest.run_fields import RUN_FIELDS
from playdeck.kit.clock import utcnow
from playdeck.models import Project, Result, Run, RunPart
from playdeck.outcomes import CUT_SHORT_STATUSES, Outcome, PartState, RunStatus


def lock_run(session: Session, run_id: int) -> Run:
    """The run, row-locked until the transaction ends, with its current values."""
    run = session.scalar(
        select(Run)
        .where(Run.id == run_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if run is None:
        raise NotFound("Run not found")
    return run


def _lock_keyed(session: Session, project_id: int, key: str) -> Run | None:
    return session.scalar(
        select(Run)
        .where(Run.project_id == project_id, Run.run_key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _lock_or_create(session: Session, project_id: int, key: str, row: dict[str, Any]) -> Run:
    """The run of ``key``, created from ``row`` when none exists yet; locked either way."""
    run = _lock_keyed(session, project_id, key)
    if run is not None:
        _fill(session, run, row)
        return run
    created = Run(**row, run_key=key)
    try:
        with session.begin_nested():
            session.add(created)
            session.flush()
    except IntegrityError:
        # Another upload of the same build created it first (PostgreSQL made this insert wait
        # for that transaction): join its run.
        run = _lock_keyed(session, project_id, key)
        if run is None:  # pragma: no cover - only if that run was deleted meanwhile
            raise Conflict("The run of this runKey is being changed", code="conflict") from None
        _fill(session, run, row)
        return run
    return created


def _fill(session: Session, run: Run, row: dict[str, Any]) -> None:
    branch = run.branch
    for column in RUN_FIELDS:  # a later part fills what the first left empty
        if getattr(run, column) is None and row.get(column) is not None:
            setattr(run, column, row[column])
    if run.branch != branch:  # the earlier parts' results carry the run's branch too
        session.execute(
            update(Result)
            .where(Result.run_id == run.id)
            .values(run_branch=run.branch)
            .execution_options(synchronize_session=False)
        )
    new_tags = [t for t in row.get("tags") or [] if t not in run.tags]
    if new_tags:
        run.tags = [*run.tags, *new_tags]
    meta = row.get("meta") or {}
    if any(k not in run.meta for k in meta):
        run.meta = {**meta, **run.meta}


def _check_shards(run: Run, shard: Shard | None) -> None:
    if shard is None:
        return
    if run.shard_total is None:
        run.shard_total = shard.total
    elif run.shard_total != shard.total:
        raise Conflict(
            f"This run has {run.shard_total} shards; shard {shard} does not belong to it",
            code="shard_total_mismatch",
        )


def _extend(run: Run, end: datetime) -> None:
    run.duration_ms = max(run.duration_ms, int((end - run.started_at).total_seconds() * 1000))


def _record_end(record: RunRecord) -> datetime:
    return record.started_at + timedelta(milliseconds=max(0, record.duration_ms))


class KeyedPart:
    """``RunTarget`` of an upload (or a live part's opening) that names a run key: its tests
    join the key's run as one new part. Without a key (a live run of its own) a new run."""

    def __init__(
        self,
        *,
        key: str | None,
        shard: Shard | None,
        live: bool,
        expected_tests: int | None = None,
        open_key: str | None = None,
    ) -> None:
        if shard is not None and key is None:
            raise InvalidInput("shard needs a runKey naming the build", code="run_key_required")
        self.key = key
        self.shard = shard
        self.live = live
        self.expected_tests = expected_tests
        self.open_key = open_key
        self.part: RunPart | None = None

    def open(self, session: Session, project: Project, row: dict[str, Any]) -> Run:
        now = utcnow()
        if self.key is None:
            run = Run(**row)
            session.add(run)
            session.flush()
        else:
            run = _lock_or_create(session, project.id, self.key, row)
        _check_shards(run, self.shard)
        self.part = RunPart(
            run_id=run.id,
            shard_index=None if self.shard is None else self.shard.index,
            shard_total=None if self.shard is None else self.shard.total,
            state=PartState.OPEN if self.live else PartState.CLOSED,
            tests=0,
            expected_tests=self.expected_tests,
            opened_at=now,
            last_seen_at=now,
            closed_at=None if self.live else now,
            open_key=self.open_key,
        )
        session.add(self.part)
        session.flush()
        return run

    def settle(self, session: Session, run: Run, record: RunRecord) -> None:
        assert self.part is not None
        self.part.tests += len(record.tests)
        if record.status in CUT_SHORT_STATUSES:
            self.part.reported_status = record.status
        _extend(run, _record_end(record))
        settle_run(session, run)


class LivePart:
    """``RunTarget`` of a batch sent to an open live part: its tests join the part's run."""

    def __init__(self, *, run_id: int, part_id: int) -> None:
        self.run_id = run_id
        self.part_id = part_id
        self.part: RunPart | None = None

    def open(self, session: Session, project: Project, row: dict[str, Any]) -> Run:
        run = lock_run(session, self.run_id)
        if run.project_id != project.id:
            raise NotFound("Live part not found")
        self.part = open_part(session, run, self.part_id)
        return run

    def settle(self, session: Session, run: Run, record: RunRecord) -> None:
        assert self.part is not None
        now = utcnow()
        self.part.tests += len(record.tests)
        self.part.last_seen_at = now
        _extend(run, max(now, _record_end(record)))
        settle_run(session, run)


def opened_with(session: Session, run_id: int, open_key: str) -> RunPart | None:
    """The live part of ``run_id`` whose opening came with ``open_key``."""
    return session.scalar(
        select(RunPart).where(RunPart.run_id == run_id, RunPart.open_key == open_key)
    )


def find_part(session: Session, run: Run, part_id: int) -> RunPart:
    part = session.scalar(
        select(RunPart)
        .where(RunPart.id == part_id, RunPart.run_id == run.id)
        .execution_options(populate_existing=True)
    )
    if part is None:
        raise NotFound("Live part not found", code="part_not_found")
    return part


def open_part(session: Session, run: Run, part_id: int) -> RunPart:
    """The run's part ``part_id``, which must still be open (409 once closed or timed out)."""
    part = find_part(session, run, part_id)
    if part.state != PartState.OPEN:
        raise Conflict(
            f"This part of the run is {part.state}: it takes no more results",
            code="part_closed",
        )
    return part


def heartbeat(session: Session, *, run: Run, part_id: int) -> None:
    """The client of an open part is alive (between batches, during a long test)."""
    changed = session.execute(
        update(RunPart)
        .where(RunPart.id == part_id, RunPart.run_id == run.id, RunPart.state == PartState.OPEN)
        .values(last_seen_at=utcnow())
    )
    if changed.rowcount == 0:  # type: ignore[attr-defined]
        open_part(session, run, part_id)  # says why: 404 or 409


def close_part(session: Session, *, run: Run, part_id: int, status: RunStatus | None) -> RunPart:
    """The client finished its part (``status``: cut short, as it says, or complete). Closing
    a closed part again answers it unchanged: a retried close is not an error."""
    now = utcnow()
    locked = lock_run(session, run.id)
    part = find_part(session, locked, part_id)
    if part.state != PartState.OPEN:
        return part
    part.state = PartState.CLOSED
    part.closed_at = now
    part.last_seen_at = now
    if status in CUT_SHORT_STATUSES:
        part.reported_status = status
    _extend(locked, now)
    settle_run(session, locked)
    session.flush()
    return part


def settle_run(session: Session, run: Run) -> None:
    """The run's counts and status over every test its parts stored (one outcome per test,
    ``shards.test_outcome``), and its parts' states."""
    session.flush()  # the parts' changes, before they are read back
    by_test: defaultdict[int, set[Outcome]] = defaultdict(set)
    for test_id, outcome in session.execute(
        select(Result.test_id, Result.outcome).where(Result.run_id == run.id)
    ):
        by_test[test_id].add(Outcome(outcome))
    outcomes = [test_outcome(found) for found in by_test.values()]
    counts = {outcome: 0 for outcome in Outcome}
    for outcome in outcomes:
        counts[outcome] += 1
    run.total = len(outcomes)
    for outcome, count in counts.items():
        setattr(run, outcome.value, count)
    run.status = run_status(outcomes, part_views(list_parts(session, run.id)), run.shard_total)


def list_parts(session: Session, run_id: int) -> list[RunPart]:
    return list(
        session.scalars(
            select(RunPart)
            .where(RunPart.run_id == run_id)
            .order_by(RunPart.id)
            .execution_options(populate_existing=True)
        )
    )


def part_views(parts: list[RunPart]) -> list[PartView]:
    return [
        PartView(
            state=PartState(p.state),
            shard_index=p.shard_index,
            reported_status=RunStatus(p.reported_status) if p.reported_status else None,
        )
        for p in parts
    ]
