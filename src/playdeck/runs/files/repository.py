"""SQL for stored files: attachments and report files, each with the project it belongs to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Attachment, Report, ReportFile, Run


def get_attachment(session: Session, attachment_id: int) -> tuple[Attachment, int] | None:
    row = session.execute(
        select(Attachment, Run.project_id)
        .join(Run, Run.id == Attachment.run_id)
        .where(Attachment.id == attachment_id)
    ).first()
    return None if row is None else (row[0], row[1])


def get_report(session: Session, report_id: int) -> tuple[Report, int] | None:
    row = session.execute(
        select(Report, Run.project_id)
        .join(Run, Run.id == Report.run_id)
        .where(Report.id == report_id)
    ).first()
    return None if row is None else (row[0], row[1])


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
