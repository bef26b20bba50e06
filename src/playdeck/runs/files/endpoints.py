"""Stored files: attachments by id and the files of uploaded reports by path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import RedirectResponse

from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import authorize
from playdeck.deps import BlobStoreDep, SessionDep, SettingsDep
from playdeck.errors import NotFound
from playdeck.kit.filenames import download_name
from playdeck.models import Attachment, ReportFile
from playdeck.runs.files import content_origin, service
from playdeck.runs.files.delivery import file_response
from playdeck.runs.filters import IdPath
from playdeck.runs.schemas import quote_path, report_url
from playdeck.settings import Settings
from playdeck.storage.base import BlobStore

router = APIRouter(tags=["files"])

FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The file's bytes.", "content": {"application/octet-stream": {}}},
    304: {"description": "Not modified (``If-None-Match`` matched the ETag)."},
}
IfNoneMatch = Annotated[str | None, Header(max_length=2000)]
FetchDest = Annotated[str | None, Header(alias="Sec-Fetch-Dest", max_length=50)]


# The paths that answer with stored bytes (attachments, report files, the content origin's
# copies): sent as stored, never re-encoded (kit/compression.py).
STORED_FILE_PATHS = ("/api/attachments/", "/api/reports/", content_origin.CONTENT_PREFIX + "/")


@dataclass(frozen=True, slots=True)
class FileRequest:
    """A reader's request for a stored file, as its answer needs it: the store, the settings,
    this server's origin (``content_base`` is under it), and the request's ``If-None-Match``
    and ``Sec-Fetch-Dest``."""

    store: BlobStore
    settings: Settings
    origin: str
    if_none_match: str | None
    fetch_dest: str | None

    def send(
        self,
        file: Attachment | ReportFile,
        *,
        kind: content_origin.Kind,
        object_id: int,
        filename: str,
        content_base: str,
        viewer: str,
    ) -> Response:
        """``file`` with ``delivery``'s headers; HTML goes to its copy on the content origin,
        if there is one (``kind``, ``object_id`` and the file's path there)."""
        path = file.path if isinstance(file, ReportFile) else file.name
        return file_response(
            self.store,
            sha256=file.sha256,
            size=file.size,
            content_type=file.content_type,
            filename=filename,
            if_none_match=self.if_none_match,
            content_base=self.origin + content_base,
            viewer=viewer,
            fetch_dest=self.fetch_dest,
            report_asset=kind == "report",
            elsewhere=content_origin.content_url_for(
                self.settings, kind, object_id, quote_path(path)
            ),
        )


def file_request(
    request: Request,
    store: BlobStoreDep,
    settings: SettingsDep,
    if_none_match: IfNoneMatch = None,
    fetch_dest: FetchDest = None,
) -> FileRequest:
    return FileRequest(
        store=store,
        settings=settings,
        origin=str(request.base_url).rstrip("/"),
        if_none_match=if_none_match,
        fetch_dest=fetch_dest,
    )


FileRequestDep = Annotated[FileRequest, Depends(file_request)]
Reader = Annotated[Principal, authorize(Permission.PROJECT_READ)]


@router.get(
    "/api/attachments/{attachment_id}",
    response_class=Response,
    responses=FILE_RESPONSES,
)
def get_attachment(
    attachment_id: IdPath, session: SessionDep, principal: Reader, files: FileRequestDep
) -> Response:
    """An attachment's bytes. Only inert types display inline; HTML runs sandboxed."""
    attachment = service.get_attachment(session, principal=principal, attachment_id=attachment_id)
    return files.send(
        attachment,
        kind="attachment",
        object_id=attachment_id,
        filename=download_name(attachment.name, attachment.content_type),
        content_base=f"/api/attachments/{attachment_id}",
        viewer=f"/attachments/{attachment_id}",
    )


@router.get("/api/reports/{report_id}", response_class=RedirectResponse, status_code=307)
def open_report(report_id: IdPath, session: SessionDep, principal: Reader) -> RedirectResponse:
    """Redirect to the report's entry file (``index.html`` for a Playwright HTML report)."""
    report = service.get_report(session, principal=principal, report_id=report_id)
    return RedirectResponse(report_url(report), status_code=307)


@router.get(
    "/api/reports/{report_id}/{path:path}",
    response_class=Response,
    responses=FILE_RESPONSES,
)
def get_report_file(
    report_id: IdPath, path: str, session: SessionDep, principal: Reader, files: FileRequestDep
) -> Response:
    """A file of an uploaded report, by its path inside the report. HTML is served only
    sandboxed (``Content-Security-Policy: sandbox allow-scripts``, ``form-action 'none'``,
    fetches limited to the report), so a report's scripts run in an opaque origin and cannot act
    as the signed-in user or post what is typed into them elsewhere; a browser opening it as a
    page is sent to the framed viewer ``/reports/{id}/{path}``."""
    if not path:
        report = service.get_report(session, principal=principal, report_id=report_id)
        return RedirectResponse(report_url(report), status_code=307)
    found = service.get_report_file(session, principal=principal, report_id=report_id, path=path)
    return files.send(
        found,
        kind="report",
        object_id=report_id,
        filename=found.path,
        content_base=f"/api/reports/{report_id}/",
        viewer=f"/reports/{report_id}/{quote_path(found.path)}",
    )


@router.get(
    content_origin.CONTENT_PREFIX + "/{token}/{path:path}",
    response_class=Response,
    responses=FILE_RESPONSES,
    dependencies=[authorize(Permission.PUBLIC)],
    include_in_schema=False,
)
def get_user_content(
    token: Annotated[str, Path(max_length=200)],
    path: str,
    request: Request,
    session: SessionDep,
    store: BlobStoreDep,
    settings: SettingsDep,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A report file or attachment on the content origin (``PLAYDECK_CONTENT_URL``), by the
    capability URL Playdeck's viewer handed out; the token is the authorization. Nothing is
    served on any other host, nor without a valid, unexpired token."""
    grant = content_origin.verify(settings, token)
    if grant is None or not content_origin.on_content_host(request, settings):
        raise NotFound("Not found")
    found = service.file_by_grant(session, kind=grant.kind, object_id=grant.id, path=path)
    if found is None:
        raise NotFound("Not found")
    assert settings.public_url is not None  # settings require it beside a content URL
    return file_response(
        store,
        sha256=found.sha256,
        size=found.size,
        content_type=found.content_type,
        filename=found.name,
        if_none_match=if_none_match,
        content_base=content_origin.content_base(settings, token),
        viewer="",
        fetch_dest=None,  # on its own host a report may stand alone: it is not Playdeck's URL
        report_asset=grant.kind == "report",
        frame_ancestors=content_origin.origin_of(settings.public_url),
    )
