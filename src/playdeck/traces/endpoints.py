"""Playwright's Trace Viewer, served on the content origin only (``PLAYDECK_CONTENT_URL``).

The viewer renders DOM snapshots taken from the pages a test visited: untrusted content, which
it shows in frames of its own origin, and it needs that origin to be a real one (its service
worker reads the trace). So it never runs on Playdeck's origin, where it would share the
readers' session: like uploaded HTML, it lives on the content host, which has no sessions, and
reads the trace through a capability URL (``runs.files.content_origin``). The files are the
viewer's own (the package's), public and the same for everyone; the path carries the viewer's
version so that an upgrade never meets a stale service worker.
"""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse

from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SettingsDep
from playdeck.errors import NotFound
from playdeck.runs.files import content_origin
from playdeck.traces.viewer import find_viewer, viewer_file

VIEWER_PREFIX = "/trace-viewer"
_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".svg": "image/svg+xml",
    ".ttf": "font/ttf",
    ".woff2": "font/woff2",
    ".webmanifest": "application/manifest+json",
    ".json": "application/json",
}

router = APIRouter(tags=["traces"])


def viewer_csp() -> str:
    """The viewer's pages: its own scripts (its ``index.html`` has one inline), frames and
    worker of its own origin, nothing from elsewhere; framed by nobody else."""
    return (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
        "media-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
        "worker-src 'self'; frame-src 'self'; form-action 'none'; base-uri 'self'; "
        "object-src 'none'; frame-ancestors 'self'"
    )


@router.get(
    VIEWER_PREFIX + "/{version}/{path:path}",
    response_class=FileResponse,
    dependencies=[authorize(Permission.PUBLIC)],
    include_in_schema=False,
)
def get_viewer_file(
    version: Annotated[str, Path(max_length=60)],
    path: str,
    request: Request,
    settings: SettingsDep,
) -> FileResponse:
    """A file of the Trace Viewer, on the content host only (``404`` anywhere else)."""
    viewer = find_viewer(settings.trace_viewer_dir)
    if viewer is None or version != viewer.version:
        raise NotFound("Not found")
    if not content_origin.on_content_host(request, settings):
        raise NotFound("Not found")
    found = viewer_file(viewer, path or "index.html")
    if found is None:
        raise NotFound("Not found")
    media = _TYPES.get(found.suffix) or mimetypes.guess_type(found.name)[0]
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if media == "text/html":
        headers["Content-Security-Policy"] = viewer_csp()
        headers["Referrer-Policy"] = "no-referrer"
    return FileResponse(found, media_type=media or "application/octet-stream", headers=headers)
