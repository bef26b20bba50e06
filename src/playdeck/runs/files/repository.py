"""SQL for stored files: attachments and report files, each with the project it belongs to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Attachment, Report, ReportFile, Run

# The stored objects that belong to a run, and through it to a project.
InRun = TypeVar("InRun", Attachment, Report)


def _with_project(session: Session, model: type[InRun], object_id: int) -> tuple[InRun, int] | None:
    """The row and the id of its run's project."""
    row = session.execute(
        select(model, Run.project_id).join(Run, Run.id == model.run_id).where(model.id == object_id)
    ).first()
    return None if row is None else (row[0], row[1])


def get_attachment(session: Session, attachment_id: int) -> tuple[Attachment, int] | None:
    return _with_project(session, Attachment, attachment_id)


def get_report(session: Session, report_id: int) -> tuple[Report, int] | None:
    return _with_project(session, Report, report_id)


def get_report_file(session: Session, report_id: int, path: str) -> ReportFile | None:
    return session.scalars(
        select(ReportFile).where(ReportFile.report_id == report_id, ReportFile.path == path)
    ).first()


def attachment_hashes(session: Session, run_id: int, attachment_ids: Sequence[int]) -> list[Any]:
    """``(id, sha256)`` of the given attachments of one run (others are ignored)."""
    if not attachment_ids:
        return []
    query = select(Attachment.id, Attachment.sha256).where(
        Attachment.run_id == run_id, Attachment.id.in_(attachment_ids)
    )
    return list(session.execute(query).all())
