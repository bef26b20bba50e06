"""``/traces/{attachment_id}``: a trace attachment in Playwright's Trace Viewer, framed under a
banner with a link to the viewer, which runs on the content origin (``traces.endpoints``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from playdeck.deps import BlobStoreDep
from playdeck.runs.files import content_origin
from playdeck.traces import service
from playdeck.web.params import page_id
from playdeck.web.rendering import render
from playdeck.web.views import Reader, ViewDep

router = APIRouter()


@router.get("/traces/{attachment_id}", response_class=HTMLResponse)
def show_trace(
    attachment_id: str, view: ViewDep, store: BlobStoreDep, principal: Reader
) -> HTMLResponse:
    number = page_id(attachment_id, what="Attachment")
    settings = view.settings
    trace = service.get_trace_page(
        view.session, store, settings, principal=principal, attachment_id=number
    )
    return render(
        view.request,
        "traces/viewer.html",
        principal=principal,
        trace=trace,
        content_origin=content_origin.origin_of(settings.content_url or ""),
        states=service.ViewerState,
    )
