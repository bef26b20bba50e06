"""Copying stored files into and out of a backup, checking each file's bytes against its name."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from playdeck.backup.layout import blob_path

_CHUNK = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(slots=True)
class Copied:
    files: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)


def _copy_verified(source: Path, target: Path, sha256: str) -> int | None:
    """Copy ``source`` to ``target`` if its content hashes to ``sha256``; the size, or ``None``
    when the source is missing or its bytes do not match (nothing is left at ``target``)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    size = 0
    try:
        with source.open("rb") as reader, partial.open("wb") as writer:
            while chunk := reader.read(_CHUNK):
                digest.update(chunk)
                writer.write(chunk)
                size += len(chunk)
    except FileNotFoundError:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        return None
    if digest.hexdigest() != sha256:
        partial.unlink()
        return None
    os.replace(partial, target)
    return size


def copy_blobs(hashes: Iterable[str], *, source: Path, target: Path) -> Copied:
    """Copy the named blobs from one content-addressed tree to another (present ones are
    checked, not copied again)."""
    copied = Copied()
    for sha in sorted(set(hashes)):
        if not _SHA256.match(sha):
            copied.missing.append(sha)
            continue
        destination = blob_path(target, sha)
        if destination.is_file():
            copied.files += 1
            copied.bytes += destination.stat().st_size
            continue
        size = _copy_verified(blob_path(source, sha), destination, sha)
        if size is None:
            copied.missing.append(sha)
        else:
            copied.files += 1
            copied.bytes += size
    return copied


def blobs_in(root: Path) -> list[str]:
    """The names of the blobs stored under ``root`` (anything else is ignored)."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.glob("??/??/*") if p.is_file() and _SHA256.match(p.name))
