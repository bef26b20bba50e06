"""A ``multipart/form-data`` body streamed from disk, with its length known up front.

httpx can stream multipart itself, but it reports no progress and does not tell the length before
sending. Knowing the length lets the server refuse an oversized body from ``Content-Length``
before any of it is sent, and lets the client draw a progress bar of bytes sent.
"""

from __future__ import annotations

import mimetypes
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

CHUNK_BYTES = 256 * 1024

_CONTENT_TYPES = {
    ".json": "application/json",
    ".xml": "application/xml",
    ".zip": "application/zip",
    ".gz": "application/gzip",
}


def guess_content_type(path: Path) -> str:
    known = _CONTENT_TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def _quote(value: str) -> str:
    # WHATWG HTML's multipart encoding of names and filenames (what browsers and httpx send).
    return value.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


@dataclass(frozen=True, slots=True)
class FilePart:
    name: str
    path: Path
    filename: str
    content_type: str

    @classmethod
    def for_path(cls, path: Path, *, name: str = "file", filename: str | None = None) -> FilePart:
        return cls(
            name=name,
            path=path,
            filename=filename or path.name,
            content_type=guess_content_type(Path(filename or path.name)),
        )


class FileChangedError(Exception):
    """A file's size changed between measuring the body and sending it."""


class MultipartBody:
    """Text fields then files; ``length`` is exact, ``chunks()`` reads each file once."""

    def __init__(
        self,
        fields: Sequence[tuple[str, str]],
        files: Sequence[FilePart],
        *,
        boundary: str | None = None,
    ) -> None:
        self.boundary = boundary or f"playdeck-{secrets.token_hex(16)}"
        self._delimiter = f"--{self.boundary}\r\n".encode()
        self._fields = [self._field_bytes(name, value) for name, value in fields]
        self._files = [(self._file_head(part), part, part.path.stat().st_size) for part in files]
        self._closing = f"--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def length(self) -> int:
        total = sum(len(field) for field in self._fields) + len(self._closing)
        for head, _part, size in self._files:
            total += len(head) + size + 2
        return total

    def _field_bytes(self, name: str, value: str) -> bytes:
        head = f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
        return self._delimiter + head.encode() + value.encode() + b"\r\n"

    def _file_head(self, part: FilePart) -> bytes:
        head = (
            f'Content-Disposition: form-data; name="{_quote(part.name)}"; '
            f'filename="{_quote(part.filename)}"\r\n'
            f"Content-Type: {part.content_type}\r\n\r\n"
        )
        return self._delimiter + head.encode()

    def chunks(self, on_progress: Callable[[int], object] | None = None) -> Iterator[bytes]:
        """The body in pieces of at most ``CHUNK_BYTES`` (file data), reporting bytes yielded."""

        def emit(data: bytes) -> bytes:
            if on_progress is not None:
                on_progress(len(data))
            return data

        for field in self._fields:
            yield emit(field)
        for head, part, size in self._files:
            yield emit(head)
            sent = 0
            with part.path.open("rb") as handle:
                while chunk := handle.read(min(CHUNK_BYTES, size - sent)):
                    sent += len(chunk)
                    yield emit(chunk)
                if sent != size or handle.read(1):
                    raise FileChangedError(f"{part.path} changed while it was being uploaded")
            yield emit(b"\r\n")
        yield emit(self._closing)
