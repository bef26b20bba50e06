"""The retention job inside the server: every ``PLAYDECK_RETENTION_INTERVAL_SECONDS`` (the
first round at most five minutes after start), the process that gets the job lock
(``retention.lock``) applies every project's policy; the others skip that round. A failing round
is logged and retried at the next one."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy import Engine

from playdeck.audit.service import Actor
from playdeck.retention.job import prune
from playdeck.retention.lock import job_lock
from playdeck.storage.base import BlobStore

logger = logging.getLogger("playdeck.retention")

ACTOR = Actor.system("retention")
# The first round comes this soon after start at the latest: a server restarted more often than
# the interval (deploys) must still prune.
FIRST_ROUND_SECONDS = 300


def run_once(engine: Engine, store: BlobStore, data_dir: Path, *, batch_size: int) -> bool:
    """One round; ``False`` when another process held the lock (nothing was done)."""
    with job_lock(engine, data_dir) as held:
        if not held:
            logger.debug("retention: another process is pruning; skipped")
            return False
        prune(engine, store, actor=ACTOR, batch_size=batch_size)
        return True


class RetentionScheduler:
    def __init__(
        self,
        engine: Engine,
        store: BlobStore,
        data_dir: Path,
        *,
        interval_seconds: float,
        batch_size: int,
    ) -> None:
        self._engine = engine
        self._store = store
        self._data_dir = data_dir
        self._interval = interval_seconds
        self._batch_size = batch_size
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="playdeck-retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        wait = min(self._interval, FIRST_ROUND_SECONDS)
        while not self._stop.wait(wait):
            wait = self._interval
            try:
                run_once(self._engine, self._store, self._data_dir, batch_size=self._batch_size)
            except Exception:
                logger.exception("retention: the round failed; retrying at the next one")
