"""Closing what clients left open: a live part whose client stopped sending is closed as
interrupted (everything it sent kept), a sharded run still missing shards is marked
incomplete. Every instance runs it (``PeriodicRunSweep``); each run is settled in its own
short transaction under its row lock, so sweeps on several instances at once, and a batch
arriving meanwhile, take turns."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from playdeck.db import writer
from playdeck.ingest.live.service import list_parts, lock_run, part_views, settle_run
from playdeck.ingest.live.shards import missing_shards
from playdeck.kit.clock import utcnow
from playdeck.kit.periodic import PeriodicTask
from playdeck.models import Run, RunPart
from playdeck.outcomes import PartState, RunStatus

logger = logging.getLogger("playdeck.ingest")


@dataclass(frozen=True, slots=True)
class RunSweep:
    interrupted_parts: int = 0
    incomplete_runs: int = 0


def sweep_runs(
    engine: Engine,
    *,
    heartbeat_seconds: float,
    shard_wait_seconds: float,
    now: datetime | None = None,
) -> RunSweep:
    """One sweep at ``now`` (default: the clock): what timed out by then is closed."""
    now = now or utcnow()
    silent_since = now - timedelta(seconds=heartbeat_seconds)
    waited_since = now - timedelta(seconds=shard_wait_seconds)
    with Session(engine) as session:
        stale = list(
            session.scalars(
                select(RunPart.run_id)
                .where(RunPart.state == PartState.OPEN, RunPart.last_seen_at < silent_since)
                .distinct()
            )
        )
        waiting = list(
            session.scalars(
                select(Run.id)
                .join(RunPart, RunPart.run_id == Run.id)
                .where(Run.status == RunStatus.RUNNING, Run.shard_total.is_not(None))
                .group_by(Run.id)
                .having(func.max(RunPart.last_seen_at) < waited_since)
            )
        )
    interrupted = sum(_interrupt_silent(engine, run_id, silent_since, now) for run_id in stale)
    incomplete = sum(_give_up_waiting(engine, run_id, waited_since) for run_id in waiting)
    return RunSweep(interrupted_parts=interrupted, incomplete_runs=incomplete)


def _interrupt_silent(engine: Engine, run_id: int, silent_since: datetime, now: datetime) -> int:
    with Session(writer(engine)) as session, session.begin():
        run = lock_run(session, run_id)
        closed = 0
        for part in list_parts(session, run.id):
            # Checked again under the lock: a batch may have arrived since the search.
            if part.state == PartState.OPEN and part.last_seen_at < silent_since:
                part.state = PartState.INTERRUPTED
                part.closed_at = now
                closed += 1
        if closed:
            settle_run(session, run)
        return closed


def _give_up_waiting(engine: Engine, run_id: int, waited_since: datetime) -> int:
    with Session(writer(engine)) as session, session.begin():
        run = lock_run(session, run_id)
        parts = list_parts(session, run.id)
        views = part_views(parts)
        if (
            run.status != RunStatus.RUNNING
            or any(p.state == PartState.OPEN for p in parts)
            or not missing_shards(views, run.shard_total)
            or max(p.last_seen_at for p in parts) >= waited_since
        ):
            return 0
        run.status = RunStatus.INCOMPLETE
        return 1


class PeriodicRunSweep(PeriodicTask):
    """The server's background thread running ``sweep_runs`` every ``interval_seconds``."""

    def __init__(
        self,
        engine: Engine,
        *,
        interval_seconds: float,
        heartbeat_seconds: float,
        shard_wait_seconds: float,
    ) -> None:
        super().__init__(
            name="run sweep", interval_seconds=interval_seconds, work=self._round, logger=logger
        )
        self.engine = engine
        self.heartbeat = heartbeat_seconds
        self.shard_wait = shard_wait_seconds

    def _round(self) -> None:
        swept = sweep_runs(
            self.engine, heartbeat_seconds=self.heartbeat, shard_wait_seconds=self.shard_wait
        )
        if swept.interrupted_parts or swept.incomplete_runs:
            logger.info(
                "run sweep: %d silent live parts interrupted, %d sharded runs incomplete",
                swept.interrupted_parts,
                swept.incomplete_runs,
            )
