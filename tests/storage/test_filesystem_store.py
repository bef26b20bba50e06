from __future__ import annotations

import copy
import hashlib
import io
import os
from pathlib import Path

import pytest

from playdeck.storage.base import BlobTooLarge, StoredBlob
from playdeck.storage.filesystem import FilesystemBlobStore


def test_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    first = store.put_bytes(b"hello")
    again = store.put_bytes(b"hello")
    assert first.sha256 == hashlib.sha256(b"hello").hexdigest()
    assert (first.created, again.created) == (True, False)
    assert b"".join(store.iter_chunks(first.sha256)) == b"hello"


def test_a_stream_already_stored_is_claimed_not_stored_again(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    first = store.put_bytes(b"trace")
    again = store.put_stream(io.BytesIO(b"trace"), max_bytes=10)
    assert (again.created, again.found) == (False, first.stamp)
    assert again.stamp > first.stamp
    assert list(store.iter_leftovers()) == []


def test_a_store_that_did_not_make_a_blobs_directories_still_stores_into_them(
    tmp_path: Path,
) -> None:
    """Fan-out directories are made when a link finds them missing, by whichever store
    instance (process) comes first; one made by another instance is used as it is."""
    first = FilesystemBlobStore(tmp_path).put_bytes(b"one")
    directory = tmp_path / first.sha256[:2] / first.sha256[2:4]
    assert directory.is_dir()
    other = FilesystemBlobStore(tmp_path)
    assert other.reclaim(first.sha256, removable=lambda _mtime: True)
    again = other.put_bytes(b"one")
    assert again.created
    assert [p.name for p in directory.iterdir()] == [first.sha256]


def test_a_directory_another_writer_makes_after_a_failed_link_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes storing into a new directory: one's link fails for want of it, the other
    makes it before the first tries to; the first links into it (found by the fault suite)."""
    store = FilesystemBlobStore(tmp_path)
    sha = hashlib.sha256(b"racing").hexdigest()
    link = os.link

    def link_after_the_other_writer(source: str, target: str) -> None:
        monkeypatch.setattr(os, "link", link)
        os.makedirs(os.path.dirname(target))  # the other writer, between our two calls
        raise FileNotFoundError(target)

    monkeypatch.setattr(os, "link", link_after_the_other_writer)
    blob = store.put_bytes(b"racing")
    assert (blob.sha256, blob.created) == (sha, True)
    assert b"".join(store.iter_chunks(sha)) == b"racing"
    assert list(store.iter_leftovers()) == []


def test_a_forked_store_never_writes_into_its_twins_temporary_file(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    twin = copy.deepcopy(store)  # as after a fork: the same token and the same counter
    taken, fd = twin._open_temp()  # the twin's write in progress
    os.close(fd)
    blob = store.put_bytes(b"mine")
    assert blob.created
    assert b"".join(store.iter_chunks(blob.sha256)) == b"mine"
    assert Path(taken).exists()


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


def test_reclaim_deletes_a_blob_the_rule_allows(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    blob = store.put_stream(io.BytesIO(b"data"), max_bytes=10)
    assert store.reclaim(blob.sha256, removable=lambda mtime: mtime == blob.stamp)
    assert not store.exists(blob.sha256)
    assert not store.reclaim(blob.sha256, removable=lambda _mtime: True)  # already gone
    assert list(store.iter_leftovers()) == []


def test_a_claim_by_a_second_writer_moves_the_mtime_and_keeps_the_blob(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    first = store.put_bytes(b"shared screenshot")
    second = store.put_bytes(b"shared screenshot")
    assert (first.created, second.created) == (True, False)
    assert second.stamp > first.stamp
    # The first writer's rollback: only what nobody claimed since may go.
    assert not store.reclaim(first.sha256, removable=lambda mtime: mtime == first.stamp)
    assert store.exists(first.sha256)
    assert list(store.iter_leftovers()) == []


def test_a_writer_arriving_while_the_blob_is_set_aside_stores_it_again(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    first = store.put_bytes(b"shared screenshot")
    late: list[StoredBlob] = []

    def removable(mtime: int) -> bool:
        # A concurrent writer between the set-aside and the decision: it cannot claim the
        # blob any more, so it must store its own copy.
        late.append(store.put_bytes(b"shared screenshot"))
        return mtime == first.stamp

    assert store.reclaim(first.sha256, removable=removable)
    assert late[0].created
    assert b"".join(store.iter_chunks(first.sha256)) == b"shared screenshot"


def test_sweep_listings_name_blobs_and_leftovers(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    blob = store.put_bytes(b"x")
    (tmp_path / "tmp" / "w-interrupted").write_bytes(b"half")
    assert [b.name for b in store.iter_blobs()] == [blob.sha256]
    assert [f.name for f in store.iter_leftovers()] == ["w-interrupted"]
