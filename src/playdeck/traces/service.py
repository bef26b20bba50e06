"""The Trace Viewer page of one trace attachment: may the caller see it, can it be shown here,
and what to say when it cannot."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, urlsplit

from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.errors import NotFound
from playdeck.models import Attachment
from playdeck.runs.files import content_origin
from playdeck.runs.files import service as files
from playdeck.settings import Settings
from playdeck.storage.base import BlobStore
from playdeck.traces.endpoints import VIEWER_PREFIX
from playdeck.traces.recorded import Recorded, is_trace, read_recorded
from playdeck.traces.viewer import TraceViewer, find_viewer, version_key

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


class ViewerState(StrEnum):
    READY = "ready"
    NO_VIEWER = "no_viewer"  # no Trace Viewer installed
    NO_CONTENT_ORIGIN = "no_content_origin"  # PLAYDECK_CONTENT_URL unset
    INSECURE = "insecure"  # the content origin is plain http on a non-local host


@dataclass(frozen=True, slots=True)
class TracePage:
    attachment: Attachment
    state: ViewerState
    viewer: TraceViewer | None
    # Where the viewer opens this trace (top level on the content origin: a framed viewer would
    # be third-party there, and browsers that partition or block third-party storage, incognito
    # windows among them, refuse it the storage it needs).
    viewer_url: str | None
    recorded: Recorded | None
    # The trace was recorded by a newer Playwright than the viewer's: it may refuse it.
    newer_than_viewer: bool


def is_secure_origin(url: str) -> bool:
    """Whether browsers treat ``url``'s origin as a secure context (service workers need one):
    HTTPS, or a loopback host (``localhost``, ``*.localhost``, ``127.0.0.1``, ``[::1]``)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https":
        return True
    return host in LOOPBACK_HOSTS or host.endswith(".localhost") or host.startswith("127.")


def _recorded(store: BlobStore, attachment: Attachment) -> Recorded | None:
    if not store.exists(attachment.sha256):
        return None
    with store.open(attachment.sha256) as handle:
        return read_recorded(handle)


def get_trace_page(
    session: Session,
    store: BlobStore,
    settings: Settings,
    *,
    principal: Principal,
    attachment_id: int,
) -> TracePage:
    attachment = files.get_attachment(session, principal=principal, attachment_id=attachment_id)
    if not is_trace(attachment.name, attachment.content_type):
        raise NotFound("This attachment is not a Playwright trace", code="not_a_trace")
    viewer = find_viewer(settings.trace_viewer_dir)
    recorded = _recorded(store, attachment)
    newer = bool(
        viewer is not None
        and recorded is not None
        and recorded.playwright_version
        and version_key(recorded.playwright_version) > version_key(viewer.version)
    )
    viewer_url = None
    if viewer is None:
        state = ViewerState.NO_VIEWER
    elif settings.content_url is None:
        state = ViewerState.NO_CONTENT_ORIGIN
    elif not all(
        is_secure_origin(url) for url in (settings.content_url, settings.public_url or "")
    ):
        state = ViewerState.INSECURE
    else:
        state = ViewerState.READY
        trace_url = content_origin.content_url_for(
            settings, "attachment", attachment.id, "trace.zip"
        )
        assert trace_url is not None
        base = settings.content_url.rstrip("/")
        viewer_url = (
            f"{base}{VIEWER_PREFIX}/{viewer.version}/index.html?trace={quote(trace_url, safe='')}"
        )
    return TracePage(attachment, state, viewer, viewer_url, recorded, newer)
