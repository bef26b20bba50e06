from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from playdeck.storage.base import BlobTooLarge
from playdeck.storage.filesystem import FilesystemBlobStore


def test_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    first = store.put_bytes(b"hello")
    again = store.put_bytes(b"hello")
    assert first.sha256 == hashlib.sha256(b"hello").hexdigest()
    assert (first.created, again.created) == (True, False)
    assert b"".join(store.iter_chunks(first.sha256)) == b"hello"


def test_stream_over_limit_leaves_nothing_behind(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    with pytest.raises(BlobTooLarge):
        store.put_stream(io.BytesIO(b"z" * 100), max_bytes=10)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_keys_that_are_not_digests_are_refused(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    for key in ("../../etc/passwd", "abc", "A" * 64):
        with pytest.raises(ValueError):
            store.open(key)


def test_delete_removes_the_file(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    blob = store.put_stream(io.BytesIO(b"data"), max_bytes=10)
    assert store.exists(blob.sha256)
    store.delete(blob.sha256)
    assert not store.exists(blob.sha256)
    store.delete(blob.sha256)  # deleting twice is harmless
