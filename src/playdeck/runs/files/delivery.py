"""HTTP responses for stored files, with the headers that keep them from attacking Playdeck.

Files come from test runs, so they are untrusted: an HTML report or attachment must not run
script with Playdeck's origin (it could read the session cookie's effects, call the API).

* ``X-Content-Type-Options: nosniff`` everywhere, so a browser never upgrades text to HTML.
* HTML is served only with ``user_content_csp``: ``sandbox allow-scripts`` (scripts run, but in
  an opaque origin without ``allow-same-origin``, so they see no cookies and no same-origin API,
  and without ``allow-forms`` or ``allow-popups``), ``form-action 'none'``, and fetches, images,
  media and frames limited to the report's own files, so a fake "session expired" form can
  neither post nor send what is typed into it to another host.
* A browser opening such HTML as a page (``Sec-Fetch-Dest: document``) is redirected to
  Playdeck's viewer, which shows it framed under an "uploaded report" banner, so it never
  stands alone on Playdeck's URL looking like Playdeck.
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
from fastapi.responses import RedirectResponse, StreamingResponse

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
CSP_INERT = "sandbox"


def user_content_csp(base: str, *, frame_ancestors: str = "'self'") -> str:
    """The policy for uploaded HTML whose own files live under ``base`` (an absolute URL: a
    report's directory, or an attachment's address)."""
    return (
        "sandbox allow-scripts; default-src 'none'; "
        f"script-src {base} 'unsafe-inline' 'unsafe-eval' blob:; "
        f"style-src {base} 'unsafe-inline'; "
        f"img-src {base} data: blob:; media-src {base} data: blob:; font-src {base} data:; "
        f"connect-src {base}; frame-src {base}; worker-src {base} blob:; "
        f"form-action 'none'; base-uri 'none'; frame-ancestors {frame_ancestors}"
    )


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
    content_base: str,
    viewer: str,
    fetch_dest: str | None,
    report_asset: bool = False,
    elsewhere: str | None = None,
    frame_ancestors: str = "'self'",
) -> Response:
    """Stream a stored file with the safety headers above.

    ``content_base`` is where the file's own resources live (``user_content_csp``); ``viewer`` is
    the framed page a browser is sent to when it opens HTML as a document. ``report_asset`` is
    for files of an uploaded report, whose stylesheets and scripts are served inline for the
    report's own page. ``elsewhere``: with a content origin, where HTML is served instead (its
    capability URL); ``frame_ancestors``: who may frame HTML (the main origin, on the content
    host).
    """
    media, charset = media_type(content_type)
    is_html = media in HTML
    if is_html and fetch_dest == "document":
        return RedirectResponse(viewer, status_code=303, headers={"Cache-Control": "no-store"})
    if is_html and elsewhere is not None:
        return RedirectResponse(elsewhere, status_code=307, headers={"Cache-Control": "no-store"})
    inline = is_html or media in SAFE_INLINE or (report_asset and media in REPORT_ASSETS)
    etag = f'"{sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": (
            user_content_csp(content_base, frame_ancestors=frame_ancestors)
            if is_html
            else CSP_INERT
        ),
        "Content-Disposition": content_disposition("inline" if inline else "attachment", filename),
    }
    if _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    if not store.exists(sha256):
        raise NotFound("The stored file is missing", code="file_missing")
    headers["Content-Length"] = str(size)
    full_type = f"{media}; charset={charset}" if charset else media
    return StreamingResponse(_chunks(store, sha256), media_type=full_type, headers=headers)
