"""The periodic sweep every instance runs: orphan files and temporary leftovers, removed once
unclaimed for the grace period. Safe on every instance at once (see ``storage.gc``)."""

from __future__ import annotations

import logging
import random
import threading

from sqlalchemy import Engine

from playdeck.storage.base import BlobStore
from playdeck.storage.gc import sweep

logger = logging.getLogger("playdeck.storage")


class PeriodicSweep:
    def __init__(self, engine: Engine, store: BlobStore, *, interval_seconds: float) -> None:
        self.engine = engine
        self.store = store
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="playdeck-sweep", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        # Jitter spreads the instances' sweeps; each is safe beside the others anyway.
        while not self._stop.wait(self.interval * random.uniform(0.5, 1.5)):  # noqa: S311
            try:
                report = sweep(
                    self.engine, self.store, grace_seconds=self.store.grace_seconds, apply=True
                )
            except Exception:
                logger.warning("storage sweep failed; trying again later", exc_info=True)
                continue
            if report.removed or report.restored:
                logger.info(
                    "storage sweep: removed %d orphan files (%d bytes) and %d leftovers, "
                    "restored %d",
                    report.orphans,
                    report.orphan_bytes,
                    report.leftovers,
                    report.restored,
                )
