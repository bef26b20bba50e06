"""Removing stored files that no row references any more.

Files are written before the transaction that references them commits, and removed only after
the transaction that dropped the last reference commits; in between, the database is the truth.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import Engine, select, union
from sqlalchemy.orm import Session

from playdeck.db import after_commit, after_rollback
from playdeck.models import Attachment, ReportFile
from playdeck.storage.base import BlobStore

logger = logging.getLogger("playdeck.storage")


def referenced(session: Session, candidates: Iterable[str]) -> set[str]:
    wanted = list(set(candidates))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = union(
            select(Attachment.sha256).where(Attachment.sha256.in_(chunk)),
            select(ReportFile.sha256).where(ReportFile.sha256.in_(chunk)),
        )
        found.update(session.execute(query).scalars())
    return found


def delete_unreferenced(engine: Engine, store: BlobStore, candidates: Iterable[str]) -> int:
    """Delete the candidate blobs no row references; returns how many were deleted."""
    candidates = set(candidates)
    if not candidates:
        return 0
    with Session(engine) as session:
        keep = referenced(session, candidates)
    removed = 0
    for sha in candidates - keep:
        store.delete(sha)
        removed += 1
    if removed:
        logger.info("removed %d unreferenced stored files", removed)
    return removed


def _engine(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def cleanup_after_commit(session: Session, store: BlobStore, candidates: set[str]) -> None:
    """Once ``session`` commits the removal of rows, delete the files they alone referenced."""
    if candidates:
        engine = _engine(session)
        after_commit(session, lambda: delete_unreferenced(engine, store, candidates))


def cleanup_after_rollback(session: Session, store: BlobStore, created: set[str]) -> None:
    """If ``session`` rolls back, delete the files it wrote that no committed row references."""
    engine = _engine(session)
    after_rollback(session, lambda: delete_unreferenced(engine, store, created))
