"""HTTP responses for stored files, with the headers that keep them from attacking Playdeck.

Files come from test runs, so they are untrusted: an HTML report or attachment must not run
script with Playdeck's origin (it could read the session cookie's effects, call the API).

* ``X-Content-Type-Options: nosniff`` everywhere, so a browser never upgrades text to HTML.
* HTML is served only with ``Content-Security-Policy: sandbox allow-scripts``: scripts run, but
  in an opaque origin (no ``allow-same-origin``), so they see no cookies and no same-origin API.
* Every other file gets ``sandbox`` without scripts; types outside a short list of inert ones
  (images, video, plain text, JSON) are sent as downloads (``Content-Disposition: attachment``).
* The stored content type came from the client: it is reduced to a well-formed ``type/subtype``
  (plus a charset) or replaced by ``application/octet-stream``.
* ``ETag`` is the content hash and ``Cache-Control: private, no-cache``: browsers keep a copy
  but revalidate, so access checks and deletions apply on the next view; a match answers 304.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

from fastapi import Response
from fastapi.responses import StreamingResponse

from playdeck.errors import NotFound
from playdeck.storage.base import BlobStore

CHUNK_SIZE = 64 * 1024
OCTET_STREAM = "application/octet-stream"
HTML = frozenset({"text/html"})
# Types a browser renders without running anything: safe to show inline.
SAFE_INLINE = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "video/webm",
        "video/mp4",
        "video/ogg",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/webm",
        "text/plain",
        "text/csv",
        "text/markdown",
        "application/json",
    }
)
# A report's own stylesheets and scripts: loaded by its (sandboxed) page, inert on their own.
REPORT_ASSETS = frozenset({"text/css", "text/javascript", "application/javascript"})
CSP_HTML = "sandbox allow-scripts"
CSP_INERT = "sandbox"

_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_CHARSET = re.compile(r"^\s*charset\s*=\s*\"?([a-z0-9._:-]{1,40})\"?\s*$", re.IGNORECASE)
_FALLBACK_UNSAFE = re.compile(r"[^\x20-\x7e]|[\"\\%;]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def media_type(raw: str) -> tuple[str, str | None]:
    """``(type/subtype, charset)`` from a stored content type; junk becomes octet-stream."""
    main, _, params = raw.partition(";")
    main = main.strip().lower()
    if not _MEDIA_TYPE.match(main):
        return OCTET_STREAM, None
    charset = None
    for param in params.split(";"):
        match = _CHARSET.match(param)
        if match:
            charset = match.group(1).lower()
    return main, charset


def content_disposition(kind: str, filename: str) -> str:
    """RFC 6266: an ASCII ``filename`` fallback and the exact name as UTF-8 ``filename*``."""
    name = _CONTROL.sub("", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip() or "file"
    fallback = _FALLBACK_UNSAFE.sub("_", name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _etag_matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def _chunks(store: BlobStore, sha256: str) -> Iterator[bytes]:
    # Opened inside the generator: a response that is never sent (the client went away first)
    # then holds no open file.
    with store.open(sha256) as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


def file_response(
    store: BlobStore,
    *,
    sha256: str,
    size: int,
    content_type: str,
    filename: str,
    if_none_match: str | None,
    report_asset: bool = False,
) -> Response:
    """Stream a stored file with the safety headers above.

    ``report_asset`` is for files of an uploaded report, whose stylesheets and scripts are
    served inline for the report's own page.
    """
    media, charset = media_type(content_type)
    is_html = media in HTML
    inline = is_html or media in SAFE_INLINE or (report_asset and media in REPORT_ASSETS)
    etag = f'"{sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CSP_HTML if is_html else CSP_INERT,
        "Content-Disposition": content_disposition("inline" if inline else "attachment", filename),
    }
    if _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    if not store.exists(sha256):
        raise NotFound("The stored file is missing", code="file_missing")
    headers["Content-Length"] = str(size)
    full_type = f"{media}; charset={charset}" if charset else media
    return StreamingResponse(_chunks(store, sha256), media_type=full_type, headers=headers)
