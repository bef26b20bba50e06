"""Where attachments given by path come from: never the server's disk, only the upload itself."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import BinaryIO, Protocol


class FileSource(Protocol):
    def open(self, path: str) -> BinaryIO | None:
        """The file a report refers to by ``path``, or ``None`` when the upload lacks it."""
        ...


class NoFiles:
    def open(self, path: str) -> BinaryIO | None:
        del path
        return None


def _parts(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").split("/") if p and p != "."]


class PathMapper:
    """Maps paths written in a report to the names of files that came with it.

    A report's paths are relative to the report file, or absolute paths on the machine that ran
    the tests. Relative paths are looked up beside the report; absolute ones by the longest
    unique suffix of path segments that names an uploaded file (``/ci/work/test-results/a/b.png``
    finds ``test-results/a/b.png``). A path that matches nothing, or matches ambiguously,
    resolves to ``None``.
    """

    def __init__(self, names: Iterable[str], *, base_dir: str = "") -> None:
        self._names = {name for name in names if not name.endswith("/")}
        self._base = base_dir.strip("/")
        self._by_suffix: dict[tuple[str, ...], str | None] = {}
        for name in self._names:
            parts = tuple(_parts(name))
            for start in range(len(parts)):
                suffix = parts[start:]
                # Two files sharing a suffix make that suffix ambiguous: remember it as None.
                self._by_suffix[suffix] = None if suffix in self._by_suffix else name

    def resolve(self, path: str) -> str | None:
        parts = _parts(path)
        if not parts:
            return None
        is_absolute = path.startswith(("/", "\\")) or (len(path) > 1 and path[1] == ":")
        if not is_absolute and ".." not in parts:
            candidate = posixpath.join(self._base, *parts) if self._base else "/".join(parts)
            if candidate in self._names:
                return candidate
        for start in range(len(parts)):
            suffix = tuple(parts[start:])
            if ".." in suffix:
                continue
            if suffix in self._by_suffix:
                return self._by_suffix[suffix]
        return None
