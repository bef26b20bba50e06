"""Pausing Python's cyclic garbage collector around allocation-heavy work.

Parsing a 10,000-test report allocates about a million containers, almost none of them in
reference cycles; the collector would run many passes over them meanwhile (about a third of the
ingest time, measured). Reference counting still frees everything as usual; cycles made during
the pause are collected after it. Several threads may pause at once: the collector comes back
when the last one leaves, and only if it was on before the first one came.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.restore = False


_PAUSES = _Pauses()


@contextmanager
def gc_paused() -> Iterator[None]:
    with _PAUSES.lock:
        if _PAUSES.active == 0:
            _PAUSES.restore = gc.isenabled()
            gc.disable()
        _PAUSES.active += 1
    try:
        yield
    finally:
        with _PAUSES.lock:
            _PAUSES.active -= 1
            if _PAUSES.active == 0 and _PAUSES.restore:
                gc.enable()
