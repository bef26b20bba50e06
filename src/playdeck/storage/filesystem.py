"""Content-addressed files under ``<data_dir>/files``: ``ab/cd/abcdef...``.

Writes go to a temporary file in the same directory tree and are renamed into place, so a reader
never sees a partial blob and a crash leaves at most a stray temporary file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from playdeck.storage.base import BlobTooLarge, StoredBlob

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1024 * 1024


class FilesystemBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._root_str = str(self.root)
        self._tmp_str = str(self._tmp)
        # Fan-out directories known to exist: saves a mkdir call per stored file.
        self._dirs: set[str] = set()

    def _path(self, sha256: str) -> Path:
        # Keys are only ever our own hex digests; anything else is a programming error.
        if not _SHA256.match(sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put_bytes(self, data: bytes) -> StoredBlob:
        # The hot path of an ingest with many small screenshots: plain os calls, no pathlib.
        sha = hashlib.sha256(data).hexdigest()
        directory = os.path.join(self._root_str, sha[:2], sha[2:4])
        path = os.path.join(directory, sha)
        if os.path.exists(path):
            return StoredBlob(sha, len(data), created=False)
        tmp = os.path.join(self._tmp_str, f"{sha}.{secrets.token_hex(8)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            if directory not in self._dirs:
                os.makedirs(directory, exist_ok=True)
                self._dirs.add(directory)
            # Identical content written concurrently by another ingest is harmless to replace.
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return StoredBlob(sha, len(data), created=True)

    def put_stream(self, stream: BinaryIO, *, max_bytes: int) -> StoredBlob:
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self._tmp)
        try:
            with os.fdopen(fd, "wb") as handle:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise BlobTooLarge(f"more than {max_bytes} bytes")
                    digest.update(chunk)
                    handle.write(chunk)
            return self._commit(Path(tmp), digest.hexdigest(), size)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def _commit(self, tmp: Path, sha: str, size: int) -> StoredBlob:
        path = self._path(sha)
        if path.exists():
            tmp.unlink()
            return StoredBlob(sha, size, created=False)
        if str(path.parent) not in self._dirs:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(str(path.parent))
        os.replace(tmp, path)
        return StoredBlob(sha, size, created=True)

    def open(self, sha256: str) -> BinaryIO:
        return self._path(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(sha256).unlink()

    def iter_chunks(self, sha256: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        with self.open(sha256) as handle:
            while chunk := handle.read(chunk_size):
                yield chunk
