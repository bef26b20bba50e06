"""Finding a stored file a caller may read: every lookup resolves its project first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import require_project
from playdeck.errors import NotFound
from playdeck.models import Attachment, Report, ReportFile
from playdeck.runs.files import repository
from playdeck.storage.base import BlobStore

T = TypeVar("T")


def _readable(
    session: Session, principal: Principal, found: tuple[T, int] | None, *, missing: str
) -> T:
    """The row of a ``(row, project id)`` lookup when the caller may read its project; a
    missing row and one in a hidden project are the same 404 ``missing``."""
    if found is None:
        raise NotFound(missing)
    row, project_id = found
    require_project(session, principal, Permission.PROJECT_READ, project_id, missing=missing)
    return row


def get_attachment(session: Session, *, principal: Principal, attachment_id: int) -> Attachment:
    found = repository.get_attachment(session, attachment_id)
    return _readable(session, principal, found, missing="Attachment not found")


def get_report(session: Session, *, principal: Principal, report_id: int) -> Report:
    found = repository.get_report(session, report_id)
    return _readable(session, principal, found, missing="Report not found")


def get_report_file(
    session: Session, *, principal: Principal, report_id: int, path: str
) -> ReportFile:
    """The file stored at ``path`` inside the report: a row lookup, never a filesystem join."""
    report = get_report(session, principal=principal, report_id=report_id)
    found = repository.get_report_file(session, report.id, path)
    if found is None:
        raise NotFound("No such file in this report")
    return found


@dataclass(frozen=True, slots=True)
class StoredFile:
    name: str
    sha256: str
    size: int
    content_type: str


def file_by_grant(session: Session, *, kind: str, object_id: int, path: str) -> StoredFile | None:
    """The file a content-origin capability names (already checked: the grant is the
    authorization): a report's file by path, or the attachment itself."""
    if kind == "report":
        row = repository.get_report_file(session, object_id, path)
        if row is None:
            return None
        return StoredFile(row.path, row.sha256, row.size, row.content_type)
    found = repository.get_attachment(session, object_id)
    if found is None:
        return None
    attachment = found[0]
    return StoredFile(attachment.name, attachment.sha256, attachment.size, attachment.content_type)


# Types shown as text on the run page (``error-context.md``, logs, JSON), when small enough.
TEXT_TYPES = frozenset(
    {"text/plain", "text/markdown", "text/x-markdown", "text/csv", "application/json"}
)


def is_text(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() in TEXT_TYPES


def read_texts(
    session: Session, store: BlobStore, *, run_id: int, attachment_ids: Sequence[int], limit: int
) -> dict[int, str]:
    """The first ``limit`` bytes of each attachment, decoded as UTF-8 (bad bytes replaced);
    a file that retention or a sweep removed is left out. The caller checked the run."""
    texts: dict[int, str] = {}
    for attachment_id, sha256 in repository.attachment_hashes(session, run_id, attachment_ids):
        try:
            with store.open(sha256) as handle:
                raw = handle.read(limit + 1)
        except FileNotFoundError:
            continue
        text = raw[:limit].decode("utf-8", "replace").replace("\x00", "")
        texts[attachment_id] = text + ("\n… [cut]" if len(raw) > limit else "")
    return texts
