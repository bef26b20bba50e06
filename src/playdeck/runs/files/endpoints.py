"""Stored files: attachments by id and the files of uploaded reports by path."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Response
from fastapi.responses import RedirectResponse

from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import authorize
from playdeck.deps import BlobStoreDep, SessionDep
from playdeck.runs.files import service
from playdeck.runs.files.delivery import file_response
from playdeck.runs.filters import IdPath
from playdeck.runs.schemas import report_url

router = APIRouter(tags=["files"])

FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file's bytes.", "content": {"application/octet-stream": {}}},
    304: {"description": "Not modified (``If-None-Match`` matched the ETag)."},
}
IfNoneMatch = Annotated[str | None, Header(max_length=2000)]


@router.get(
    "/api/attachments/{attachment_id}",
    response_class=Response,
    responses=FILE_RESPONSES,
)
def get_attachment(
    attachment_id: IdPath,
    session: SessionDep,
    store: BlobStoreDep,
    principal: Annotated[Principal, authorize(Permission.PROJECT_READ)],
    if_none_match: IfNoneMatch = None,
) -> Response:
    """An attachment's bytes. Only inert types display inline; HTML runs sandboxed."""
    attachment = service.get_attachment(session, principal=principal, attachment_id=attachment_id)
    return file_response(
        store,
        sha256=attachment.sha256,
        size=attachment.size,
        content_type=attachment.content_type,
        filename=attachment.name,
        if_none_match=if_none_match,
    )


@router.get("/api/reports/{report_id}", response_class=RedirectResponse, status_code=307)
def open_report(
    report_id: IdPath,
    session: SessionDep,
    principal: Annotated[Principal, authorize(Permission.PROJECT_READ)],
) -> RedirectResponse:
    """Redirect to the report's entry file (``index.html`` for a Playwright HTML report)."""
    report = service.get_report(session, principal=principal, report_id=report_id)
    return RedirectResponse(report_url(report), status_code=307)


@router.get(
    "/api/reports/{report_id}/{path:path}",
    response_class=Response,
    responses=FILE_RESPONSES,
)
def get_report_file(
    report_id: IdPath,
    path: str,
    session: SessionDep,
    store: BlobStoreDep,
    principal: Annotated[Principal, authorize(Permission.PROJECT_READ)],
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A file of an uploaded report, by its path inside the report. HTML is served only
    sandboxed (``Content-Security-Policy: sandbox allow-scripts``), so a report's scripts run
    in an opaque origin and cannot act as the signed-in user."""
    if not path:
        report = service.get_report(session, principal=principal, report_id=report_id)
        return RedirectResponse(report_url(report), status_code=307)
    found = service.get_report_file(session, principal=principal, report_id=report_id, path=path)
    return file_response(
        store,
        sha256=found.sha256,
        size=found.size,
        content_type=found.content_type,
        filename=found.path,
        if_none_match=if_none_match,
        report_asset=True,
    )
