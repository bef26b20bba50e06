"""The periodic sweep every instance runs: orphan files and temporary leftovers, removed once
unclaimed for the grace period. Safe on every instance at once (see ``storage.gc``)."""

from __future__ import annotations

import logging

from sqlalchemy import Engine

from playdeck.kit.periodic import PeriodicTask
from playdeck.storage.base import BlobStore
from playdeck.storage.gc import sweep

logger = logging.getLogger("playdeck.storage")


class PeriodicSweep(PeriodicTask):
    def __init__(self, engine: Engine, store: BlobStore, *, interval_seconds: float) -> None:
        super().__init__(
            name="storage sweep", interval_seconds=interval_seconds, work=self._round, logger=logger
        )
        self.engine = engine
        self.store = store

    def _round(self) -> None:
        report = sweep(self.engine, self.store, grace_seconds=self.store.grace_seconds, apply=True)
        if report.removed or report.restored:
            logger.info(
                "storage sweep: removed %d orphan files (%d bytes) and %d leftovers, restored %d",
                report.orphans,
                report.orphan_bytes,
                report.leftovers,
                report.restored,
            )
