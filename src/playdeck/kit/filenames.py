"""File names for downloads: the extension a file's content type calls for."""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

# Where the platform's table is missing a type or prefers an odd extension (".jpe", ".bat").
_EXTENSIONS = {
    "application/zip": ".zip",
    "application/json": ".json",
    "application/gzip": ".gz",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/html": ".html",
    "text/csv": ".csv",
    "video/webm": ".webm",
    "video/mp4": ".mp4",
}


def extension_for(content_type: str) -> str | None:
    media = content_type.split(";", 1)[0].strip().lower()
    return _EXTENSIONS.get(media) or mimetypes.guess_extension(media, strict=False)


def download_name(name: str, content_type: str) -> str:
    """``name`` as a file name (no directories), with the extension of ``content_type`` when
    it has none: ``trace`` + ``application/zip`` is ``trace.zip``; ``error-context.md`` stays."""
    base = PurePosixPath(name.replace("\\", "/")).name or "attachment"
    if PurePosixPath(base).suffix:
        return base
    extension = extension_for(content_type)
    return base + extension if extension else base
