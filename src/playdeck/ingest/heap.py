"""Giving the C heap's free pages back to the operating system between the steps of an ingest.

CPython hands objects above 512 bytes (an attachment's bytes, a long error text) to the C
``malloc``; glibc keeps what they freed in its heap, counted in the process's resident memory,
unless asked to return it. A no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    if sys.platform != "linux":
        return None
    try:
        libc = ctypes.CDLL(None)
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):  # musl, or no C library symbols
        return None
    return trim


_TRIM = _malloc_trim()


def give_back() -> bool:
    """Return the heap's free pages to the operating system; ``True`` when some were."""
    return _TRIM is not None and bool(_TRIM(0))
