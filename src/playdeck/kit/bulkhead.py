"""Bounded waits on a dependency that may hang (Redis frozen, partitioned, overloaded).

A timeout alone still lets every request wait its full length, and enough waiting requests
fill the worker thread pool: then even ``/healthz`` and pages that never touch the dependency
stall. ``Bulkhead`` adds two limits: at most ``max_waiting`` calls wait on the dependency at
once (the rest fail at once), and after a failure every call fails at once for
``cooldown_seconds`` (a circuit breaker), after which calls try again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class DependencyUnavailable(Exception):
    """The dependency is failing or saturated; the caller answers 503 without waiting."""


class Bulkhead:
    def __init__(
        self,
        *,
        max_waiting: int,
        cooldown_seconds: float,
        failures: tuple[type[BaseException], ...],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._slots = threading.BoundedSemaphore(max_waiting)
        self._cooldown = cooldown_seconds
        self._failures = failures
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        """Failing fast after a recent failure."""
        return self._clock() < self._open_until

    @contextmanager
    def call(self) -> Iterator[None]:
        if self.is_open or not self._slots.acquire(blocking=False):
            raise DependencyUnavailable
        try:
            yield
        except self._failures:
            self._open_until = self._clock() + self._cooldown
            raise
        finally:
            self._slots.release()
