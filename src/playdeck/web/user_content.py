"""``/reports/{id}/{path}`` and ``/attachments/{id}``: uploaded HTML, framed under a banner.

An uploaded report is someone's HTML. Shown on its own at Playdeck's address it could pass for a
Playdeck page ("your session expired, sign in again"); here it is always inside a sandboxed frame
under a banner saying what it is. The file endpoints send browsers that open such HTML as a page
to these viewers (``runs.files.delivery``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from playdeck.auth.principal import Principal
from playdeck.authz.dependencies import authorize
from playdeck.authz.permissions import Permission
from playdeck.deps import SessionDep, SettingsDep
from playdeck.runs.files import content_origin, service
from playdeck.runs.schemas import quote_path
from playdeck.settings import Settings
from playdeck.web.headers import PAGE_CSP, PAGE_HEADERS
from playdeck.web.params import page_id
from playdeck.web.rendering import render

router = APIRouter()
Reader = Annotated[Principal, authorize(Permission.PROJECT_READ)]


def _frame_headers(settings: Settings) -> dict[str, str] | None:
    """With a content origin, the page may frame it (the page policy allows only itself)."""
    if settings.content_url is None:
        return None
    origin = content_origin.origin_of(settings.content_url)
    return {**PAGE_HEADERS, "Content-Security-Policy": f"{PAGE_CSP}; frame-src {origin}"}


@router.get("/reports/{report_id}/{path:path}", response_class=HTMLResponse)
def show_report(
    report_id: str,
    path: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
) -> HTMLResponse:
    number = page_id(report_id, what="Report")
    report = service.get_report(session, principal=principal, report_id=number)
    shown = quote_path(path or report.entry)
    return render(
        request,
        "runs/user_content.html",
        principal=principal,
        headers=_frame_headers(settings),
        what="Uploaded report",
        name=report.label or f"{report.type} report",
        frame_src=content_origin.content_url_for(settings, "report", number, shown)
        or f"/api/reports/{number}/{shown}",
        run_id=report.run_id,
    )


@router.get("/attachments/{attachment_id}", response_class=HTMLResponse)
def show_attachment(
    attachment_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
) -> HTMLResponse:
    number = page_id(attachment_id, what="Attachment")
    attachment = service.get_attachment(session, principal=principal, attachment_id=number)
    name = quote_path(attachment.name.replace("\\", "/").rsplit("/", 1)[-1] or "file")
    return render(
        request,
        "runs/user_content.html",
        principal=principal,
        headers=_frame_headers(settings),
        what="Uploaded attachment",
        name=attachment.name,
        frame_src=content_origin.content_url_for(settings, "attachment", number, name)
        or f"/api/attachments/{number}",
        run_id=attachment.run_id,
    )
