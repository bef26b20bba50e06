"""``/traces/{attachment_id}``: a trace attachment in Playwright's Trace Viewer, framed under a
banner with a link to the viewer, which runs on the content origin (``traces.endpoints``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import BlobStoreDep, SessionDep, SettingsDep
from playdeck.runs.files import content_origin
from playdeck.traces import service
from playdeck.web.params import page_id
from playdeck.web.rendering import render

router = APIRouter()


@router.get("/traces/{attachment_id}", response_class=HTMLResponse)
def show_trace(
    attachment_id: str,
    request: Request,
    session: SessionDep,
    store: BlobStoreDep,
    settings: SettingsDep,
    principal: Annotated[Principal, authorize(Permission.PROJECT_READ)],
) -> HTMLResponse:
    number = page_id(attachment_id, what="Attachment")
    trace = service.get_trace_page(
        session, store, settings, principal=principal, attachment_id=number
    )
    return render(
        request,
        "traces/viewer.html",
        principal=principal,
        trace=trace,
        content_origin=content_origin.origin_of(settings.content_url or ""),
        states=service.ViewerState,
    )
