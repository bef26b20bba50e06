"""SQL for retention: policies, the facts a plan needs, batch deletes, disk usage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, false, func, select, union_all, update
from sqlalchemy.orm import Session

from playdeck.models import Attachment, Project, Report, ReportFile, Result, RetentionPolicy, Run
from playdeck.retention.plan import RunFacts


def get_policy(session: Session, project_id: int) -> RetentionPolicy | None:
    return session.scalars(
        select(RetentionPolicy).where(RetentionPolicy.project_id == project_id)
    ).first()


def save_policy(
    session: Session,
    project_id: int,
    *,
    keep_days: int | None,
    keep_last: int | None,
    files_days: int | None,
    branch_rules: list[dict[str, Any]],
) -> RetentionPolicy:
    row = get_policy(session, project_id)
    if row is None:
        row = RetentionPolicy(project_id=project_id)
        session.add(row)
    row.keep_days = keep_days
    row.keep_last = keep_last
    row.files_days = files_days
    row.branch_rules = branch_rules
    session.flush()
    return row


def delete_policy(session: Session, project_id: int) -> None:
    session.execute(delete(RetentionPolicy).where(RetentionPolicy.project_id == project_id))


def projects_with_policies(session: Session) -> list[tuple[Project, RetentionPolicy]]:
    rows = session.execute(
        select(Project, RetentionPolicy)
        .join(RetentionPolicy, RetentionPolicy.project_id == Project.id)
        .order_by(Project.id)
    ).all()
    return [(project, policy) for project, policy in rows]


def run_facts(session: Session, project_id: int) -> list[RunFacts]:
    """Every run of the project, newest first, with only what a plan reads."""
    rows = session.execute(
        select(Run.id, Run.started_at, Run.branch, Run.pinned, Run.files_pruned_at)
        .where(Run.project_id == project_id)
        .order_by(Run.started_at.desc(), Run.id.desc())
    )
    return [
        RunFacts(id=i, started_at=at, branch=branch, pinned=pinned, files_pruned=pruned is not None)
        for i, at, branch, pinned, pruned in rows
    ]


def delete_unpinned_runs(session: Session, project_id: int, run_ids: Sequence[int]) -> list[int]:
    """Delete those of the runs that are (still) unpinned; results, attempts, attachments and
    reports go with them (ON DELETE CASCADE). Returns the ids deleted."""
    deleted = session.scalars(
        delete(Run)
        .where(Run.id.in_(run_ids), Run.project_id == project_id, Run.pinned == false())
        .returning(Run.id)
    )
    return sorted(deleted)


def prune_files(
    session: Session, project_id: int, run_ids: Sequence[int], *, now: datetime
) -> list[int]:
    """Drop the attachment and report rows of those runs that are (still) unpinned, and mark
    them. Returns the ids of the runs changed."""
    marked = sorted(
        session.scalars(
            update(Run)
            .where(Run.id.in_(run_ids), Run.project_id == project_id, Run.pinned == false())
            .values(files_pruned_at=now)
            .returning(Run.id)
        )
    )
    if marked:
        session.execute(delete(Attachment).where(Attachment.run_id.in_(marked)))
        session.execute(delete(Report).where(Report.run_id.in_(marked)))
    return marked


def set_pinned(session: Session, run: Run, pinned: bool) -> None:
    run.pinned = pinned
    session.flush()


def pinned_runs(session: Session, project_id: int) -> list[Run]:
    return list(
        session.scalars(
            select(Run)
            .where(Run.project_id == project_id, Run.pinned == True)  # noqa: E712
            .order_by(Run.started_at.desc(), Run.id.desc())
        )
    )


def usage(session: Session, project_id: int) -> dict[str, int]:
    runs_of = select(Run.id).where(Run.project_id == project_id).scalar_subquery()
    runs, pinned = session.execute(
        select(func.count(Run.id), func.count(Run.id).filter(Run.pinned == True)).where(  # noqa: E712
            Run.project_id == project_id
        )
    ).one()
    results = session.scalar(select(func.count(Result.id)).where(Result.project_id == project_id))
    attachments, attachment_bytes = session.execute(
        select(func.count(Attachment.id), func.coalesce(func.sum(Attachment.size), 0)).where(
            Attachment.run_id.in_(runs_of)
        )
    ).one()
    report_rows = (
        select(ReportFile.sha256, ReportFile.size)
        .join(Report, Report.id == ReportFile.report_id)
        .where(Report.run_id.in_(runs_of))
    )
    reports = report_rows.subquery()
    report_files, report_bytes = session.execute(
        select(func.count(), func.coalesce(func.sum(reports.c.size), 0))
    ).one()
    every = union_all(
        select(Attachment.sha256, Attachment.size).where(Attachment.run_id.in_(runs_of)),
        report_rows,
    ).subquery()
    distinct = (
        select(every.c.sha256, func.max(every.c.size).label("size"))
        .group_by(every.c.sha256)
        .subquery()
    )
    stored = session.scalar(select(func.coalesce(func.sum(distinct.c.size), 0)))
    return {
        "runs": int(runs),
        "pinned_runs": int(pinned),
        "results": int(results or 0),
        "attachments": int(attachments),
        "attachment_bytes": int(attachment_bytes),
        "report_files": int(report_files),
        "report_bytes": int(report_bytes),
        "stored_bytes": int(stored or 0),
    }
