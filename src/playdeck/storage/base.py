"""The attachment store interface: content-addressed blobs keyed by their SHA-256.

Deleting is never a plain ``unlink``: files are shared between runs and may be claimed by an
ingest that has not committed yet, so removal goes through ``reclaim`` (see
``docs/ARCHITECTURE.md``, "Storage").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    size: int
    created: bool  # False when identical bytes were already stored (and were claimed again)
    stamp: int  # the file's mtime (ns) once this writer was done with it
    # A claim: the mtime it found before moving it forward (another writer's claim in between
    # two of one writer's own shows as a ``found`` that is not that writer's last ``stamp``).
    found: int | None = None


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file found on disk by a sweep: a stored blob, or a temporary leftover."""

    name: str  # the sha256 for blobs, the file name for leftovers
    size: int
    mtime_ns: int  # set-aside blobs: the later of mtime and ctime (a rename sets ctime)
    blob: str | None = None  # leftovers: the sha256 of a blob a crashed sweep set aside


class BlobStore(Protocol):
    # How long a claimed blob is safe from deletion (see ``reclaim`` and ``storage.gc``).
    grace_seconds: float
    root: Path

    def put_bytes(self, data: bytes) -> StoredBlob: ...

    def put_stream(self, stream: BinaryIO, *, max_bytes: int) -> StoredBlob:
        """Store a stream; raise ``BlobTooLarge`` past ``max_bytes``."""
        ...

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def iter_chunks(self, sha256: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]: ...

    def reclaim(self, sha256: str, *, removable: Callable[[int], bool]) -> bool:
        """Delete the blob if, once nobody can claim it any more, ``removable(mtime_ns)``
        holds; otherwise put it back. Returns whether it was deleted."""
        ...

    def iter_blobs(self) -> Iterator[StoredFile]: ...

    def iter_leftovers(self) -> Iterator[StoredFile]: ...

    def remove_leftover(self, leftover: StoredFile, *, restore: bool) -> None:
        """Delete a temporary leftover (an interrupted write, or a blob a crashed sweep set
        aside); with ``restore``, put a set-aside blob back instead."""
        ...


class BlobTooLarge(Exception):
    pass
