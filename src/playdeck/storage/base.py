"""The attachment store interface: content-addressed blobs keyed by their SHA-256."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol


@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    size: int
    created: bool  # False when identical bytes were already stored


class BlobStore(Protocol):
    def put_bytes(self, data: bytes) -> StoredBlob: ...

    def put_stream(self, stream: BinaryIO, *, max_bytes: int) -> StoredBlob:
        """Store a stream; raise ``BlobTooLarge`` past ``max_bytes``."""
        ...

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None: ...

    def iter_chunks(self, sha256: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]: ...


class BlobTooLarge(Exception):
    pass
