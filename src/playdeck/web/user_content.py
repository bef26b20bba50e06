"""``/reports/{id}/{path}`` and ``/attachments/{id}``: uploaded HTML, framed under a banner.

An uploaded report is someone's HTML. Shown on its own at Playdeck's address it could pass for a
Playdeck page ("your session expired, sign in again"); here it is always inside a sandboxed frame
under a banner saying what it is. The file endpoints send browsers that open such HTML as a page
to these viewers (``runs.files.delivery``).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from playdeck.auth.principal import Principal
from playdeck.runs.files import content_origin, service
from playdeck.runs.files.content_origin import Kind
from playdeck.runs.schemas import quote_path
from playdeck.web.headers import PAGE_CSP, PAGE_HEADERS
from playdeck.web.params import page_id
from playdeck.web.rendering import render
from playdeck.web.views import PageView, Reader, ViewDep

router = APIRouter()


def _viewer(
    view: PageView,
    principal: Principal,
    kind: Kind,
    number: int,
    path: str,
    *,
    name: str,
    run_id: int,
    api_url: str,
) -> HTMLResponse:
    """The banner over the framed file: from the content origin when there is one (the page's
    policy then allows framing it), else from its API path, ``api_url``."""
    settings = view.settings
    headers = None
    if settings.content_url is not None:
        origin = content_origin.origin_of(settings.content_url)
        headers = {**PAGE_HEADERS, "Content-Security-Policy": f"{PAGE_CSP}; frame-src {origin}"}
    return render(
        view.request,
        "runs/user_content.html",
        principal=principal,
        headers=headers,
        what=f"Uploaded {kind}",
        name=name,
        frame_src=content_origin.content_url_for(settings, kind, number, path) or api_url,
        run_id=run_id,
    )


@router.get("/reports/{report_id}/{path:path}", response_class=HTMLResponse)
def show_report(report_id: str, path: str, view: ViewDep, principal: Reader) -> HTMLResponse:
    number = page_id(report_id, what="Report")
    report = service.get_report(view.session, principal=principal, report_id=number)
    shown = quote_path(path or report.entry)
    name = report.label or f"{report.type} report"
    api_url = f"/api/reports/{number}/{shown}"
    return _viewer(
        view, principal, "report", number, shown, name=name, run_id=report.run_id, api_url=api_url
    )


@router.get("/attachments/{attachment_id}", response_class=HTMLResponse)
def show_attachment(attachment_id: str, view: ViewDep, principal: Reader) -> HTMLResponse:
    number = page_id(attachment_id, what="Attachment")
    attachment = service.get_attachment(view.session, principal=principal, attachment_id=number)
    name = quote_path(attachment.name.replace("\\", "/").rsplit("/", 1)[-1] or "file")
    return _viewer(
        view,
        principal,
        "attachment",
        number,
        name,
        name=attachment.name,
        run_id=attachment.run_id,
        api_url=f"/api/attachments/{number}",
    )
