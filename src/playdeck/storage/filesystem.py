"""Content-addressed files under ``<data_dir>/files``: ``ab/cd/abcdef...``.

Writes go to a temporary file under ``files/tmp`` and are hard-linked into place, so a reader
never sees a partial blob, exactly one writer creates a given blob, and a crash leaves at most
a stray temporary file. Deletion is a protocol, not an ``unlink`` (``reclaim``):

* a writer that finds the blob already stored *claims* it by moving its mtime forward (never
  to a time it had before); a claim on a blob that has just been set aside fails with
  ``FileNotFoundError`` and the writer stores the bytes again;
* a deleter first *sets the blob aside* (an atomic rename into ``tmp``), so no writer can claim
  it from then on, then reads its mtime: a claim made before the rename shows there, and the
  blob is put back; otherwise it is deleted.

Several processes and instances sharing the directory may do all of this at once; renames and
links are atomic on a local or network (NFS) file system.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import itertools
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from playdeck.storage.base import BlobTooLarge, StoredBlob, StoredFile

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_HEX2 = re.compile(r"^[0-9a-f]{2}$")
_CHUNK = 1024 * 1024
WRITE_PREFIX = "w-"  # a write in progress (or interrupted)
ASIDE_PREFIX = "q-"  # a blob set aside by a deleter: ``q-<sha256>.<random>``


DEFAULT_GRACE_SECONDS = 3600


class FilesystemBlobStore:
    def __init__(self, root: Path, *, grace_seconds: float = DEFAULT_GRACE_SECONDS) -> None:
        self.root = root.resolve()
        self.grace_seconds = grace_seconds
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._root_str = str(self.root)
        self._tmp_str = str(self._tmp)
        # Fan-out directories known to exist (deleters never remove one).
        self._dirs: set[str] = set()
        self._token = secrets.token_hex(8)
        self._serial = itertools.count()

    def _path(self, sha256: str) -> str:
        # Keys are only ever our own hex digests; anything else is a programming error.
        if not _SHA256.match(sha256):
            raise ValueError("not a sha256 hex digest")
        return self._blob_path(sha256)

    def _blob_path(self, sha256: str) -> str:
        """``_path`` for a digest this store has just computed."""
        return os.path.join(self._root_str, sha256[:2], sha256[2:4], sha256)

    def _open_temp(self) -> tuple[str, int]:
        """A new temporary file under ``tmp``, open for writing: its name and descriptor.

        Named by a random token drawn once per store and a counter (a random draw per file is
        one more system call each); a name taken already (a forked copy of this store) draws a
        new token.
        """
        while True:
            tmp = os.path.join(self._tmp_str, f"{WRITE_PREFIX}{self._token}-{next(self._serial)}")
            try:
                return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                self._token = secrets.token_hex(8)

    # --- writing ---------------------------------------------------------------------------

    @staticmethod
    def _claim(sha: str, size: int, path: str) -> StoredBlob:
        """Move the blob's mtime forward; raises ``FileNotFoundError`` once it is set aside."""
        before = os.stat(path).st_mtime_ns
        stamp = max(time.time_ns(), before + 1)
        os.utime(path, ns=(stamp, stamp))
        return StoredBlob(sha, size, created=False, stamp=stamp, found=before)

    def _make_directory(self, directory: str) -> None:
        """Create a blob's fan-out directory (another writer may be creating it too)."""
        if directory in self._dirs:
            return
        try:
            os.mkdir(directory)
        except FileExistsError:
            pass
        except FileNotFoundError:  # its first level is new too
            with contextlib.suppress(FileExistsError):
                os.mkdir(os.path.dirname(directory))
            with contextlib.suppress(FileExistsError):
                os.mkdir(directory)
        self._dirs.add(directory)

    def _link_into_place(self, tmp: str, sha: str, size: int, stamp: int) -> StoredBlob:
        """Publish the finished temporary file ``tmp`` (its mtime: ``stamp``) as blob ``sha``,
        and remove ``tmp``.

        The link is tried first: it fails if the blob exists (another writer published it
        meanwhile: claim theirs, or link again if it was set aside since) or if its directory
        does not (created, then linked again), so a new blob costs no look-up before it.
        """
        path = self._blob_path(sha)
        directory_made = False
        try:
            while True:
                try:
                    os.link(tmp, path)
                    return StoredBlob(sha, size, created=True, stamp=stamp)
                except FileExistsError:
                    pass
                except FileNotFoundError:
                    # The directory is missing (or was, until another writer made it). Once it
                    # is there, what is missing can only be ``tmp`` itself: an error.
                    if directory_made:
                        raise
                    self._make_directory(os.path.dirname(path))
                    directory_made = True
                    continue
                with contextlib.suppress(FileNotFoundError):
                    return self._claim(sha, size, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def put_bytes(self, data: bytes) -> StoredBlob:
        # The hot path of an ingest with many small screenshots: plain os calls, no pathlib, no
        # file object; the mtime is read from the open descriptor.
        sha = hashlib.sha256(data).hexdigest()
        with contextlib.suppress(FileNotFoundError):
            return self._claim(sha, len(data), self._blob_path(sha))
        tmp, fd = self._open_temp()
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                stamp = os.fstat(fd).st_mtime_ns
            finally:
                os.close(fd)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return self._link_into_place(tmp, sha, len(data), stamp)

    def put_stream(self, stream: BinaryIO, *, max_bytes: int) -> StoredBlob:
        digest = hashlib.sha256()
        size = 0
        tmp, fd = self._open_temp()
        try:
            with os.fdopen(fd, "wb") as handle:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise BlobTooLarge(f"more than {max_bytes} bytes")
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                stamp = os.fstat(fd).st_mtime_ns
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return self._link_into_place(tmp, digest.hexdigest(), size, stamp)

    # --- reading ---------------------------------------------------------------------------

    def open(self, sha256: str) -> BinaryIO:
        return open(self._path(sha256), "rb")

    def exists(self, sha256: str) -> bool:
        return os.path.exists(self._path(sha256))

    def iter_chunks(self, sha256: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        with self.open(sha256) as handle:
            while chunk := handle.read(chunk_size):
                yield chunk

    # --- deleting --------------------------------------------------------------------------

    def _restore(self, aside: str, sha: str) -> None:
        path = self._path(sha)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        # A writer may have stored the same bytes again meanwhile: theirs stays.
        with contextlib.suppress(FileExistsError):
            os.link(aside, path)
        os.unlink(aside)

    def reclaim(self, sha256: str, *, removable: Callable[[int], bool]) -> bool:
        aside = os.path.join(self._tmp_str, f"{ASIDE_PREFIX}{sha256}.{secrets.token_hex(4)}")
        try:
            os.rename(self._path(sha256), aside)
        except FileNotFoundError:
            return False  # already gone, or set aside by another deleter
        # From here on no writer can claim it; any claim made before shows in the mtime.
        try:
            if removable(os.stat(aside).st_mtime_ns):
                os.unlink(aside)
                return True
            self._restore(aside, sha256)
        except FileNotFoundError:
            pass  # a sweep took it for a crashed deleter's leftover and dealt with it
        return False

    def iter_blobs(self) -> Iterator[StoredFile]:
        for first in sorted(os.listdir(self._root_str)):
            if not _HEX2.match(first):
                continue
            level1 = os.path.join(self._root_str, first)
            for second in sorted(os.listdir(level1)):
                level2 = os.path.join(level1, second)
                if not _HEX2.match(second) or not os.path.isdir(level2):
                    continue
                with os.scandir(level2) as entries:
                    for entry in entries:
                        if not _SHA256.match(entry.name):
                            continue
                        try:
                            st = entry.stat()
                        except FileNotFoundError:
                            continue
                        yield StoredFile(entry.name, st.st_size, st.st_mtime_ns)

    def iter_leftovers(self) -> Iterator[StoredFile]:
        with os.scandir(self._tmp_str) as entries:
            for entry in entries:
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                blob = None
                if entry.name.startswith(ASIDE_PREFIX):
                    candidate = entry.name[len(ASIDE_PREFIX) :].split(".", 1)[0]
                    blob = candidate if _SHA256.match(candidate) else None
                # A set-aside blob keeps its mtime (its last claim); the rename that set it
                # aside shows in its ctime, and a live deleter holds it only for a moment.
                active = st.st_mtime_ns if blob is None else max(st.st_mtime_ns, st.st_ctime_ns)
                yield StoredFile(entry.name, st.st_size, active, blob=blob)

    def remove_leftover(self, leftover: StoredFile, *, restore: bool) -> None:
        path = os.path.join(self._tmp_str, os.path.basename(leftover.name))
        try:
            if restore and leftover.blob is not None:
                self._restore(path, leftover.blob)
            else:
                os.unlink(path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
