"""A background thread that does one round of work every interval, jittered so that several
instances started together spread their rounds; a failed round is logged and tried again at
the next one."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable


class PeriodicTask:
    def __init__(
        self,
        *,
        name: str,
        interval_seconds: float,
        work: Callable[[], None],
        logger: logging.Logger,
    ) -> None:
        self.interval = interval_seconds
        self._work = work
        self._name = name
        self._logger = logger
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"playdeck-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval * random.uniform(0.5, 1.5)):  # noqa: S311
            try:
                self._work()
            except Exception:
                self._logger.warning("%s failed; trying again later", self._name, exc_info=True)
