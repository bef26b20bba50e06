"""Removing stored files no row references: after a rollback, after a deletion, and by sweeps.

Files are written before the transaction that references them begins, and are shared between
runs, so "no committed row references this file" is not enough to delete it: an ingest that
has stored (or claimed) the same bytes may be about to commit. Every deletion therefore goes
through ``BlobStore.reclaim`` with a rule on the blob's last claim (its mtime):

* an ingest that did not commit deletes the blobs it *created* only if nobody claimed them
  since (the mtime is still the one it wrote), and only if the database says no committed row
  uses them (the commit itself may have failed after reaching the server);
* everything else (a deleted run's files, orphans, interrupted writes) is deleted only once
  unclaimed for the grace period (``PLAYDECK_STORAGE_GRACE_SECONDS``), longer than any ingest
  takes from storing its files to committing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, Select, select, union
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from playdeck.db import after_commit, after_rollback
from playdeck.models import Attachment, Report, ReportFile
from playdeck.storage.base import BlobStore, StoredBlob, StoredFile

logger = logging.getLogger("playdeck.storage")

CHUNK = 500


def referenced(session: Session, candidates: Iterable[str]) -> set[str]:
    wanted = list(set(candidates))
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        query = union(
            select(Attachment.sha256).where(Attachment.sha256.in_(chunk)),
            select(ReportFile.sha256).where(ReportFile.sha256.in_(chunk)),
        )
        found.update(session.execute(query).scalars())
    return found


def file_hashes(session: Session, run_ids: Sequence[int] | Select[int]) -> set[str]:
    """The stored files (their hashes) the runs' attachments and report files point at, to
    reclaim once their rows are gone (``run_ids``: the ids, or a query of them). Here, not in
    ``runs/``: the ingest worker process imports this module, and ``runs.repository`` would
    bring the web framework with it (tests/ingest/test_worker_imports.py)."""
    hashes = set(session.scalars(select(Attachment.sha256).where(Attachment.run_id.in_(run_ids))))
    hashes.update(
        session.scalars(
            select(ReportFile.sha256)
            .join(Report, Report.id == ReportFile.report_id)
            .where(Report.run_id.in_(run_ids))
        )
    )
    return hashes


def _referenced_now(engine: Engine, candidates: Iterable[str]) -> set[str] | None:
    """What committed rows reference, or ``None`` when the database cannot say."""
    try:
        with Session(engine) as session:
            return referenced(session, candidates)
    except SQLAlchemyError:
        logger.warning("database unavailable: stored files are left for the next sweep")
        return None


def _cutoff_ns(grace_seconds: float) -> int:
    return time.time_ns() - int(grace_seconds * 1e9)


def _unclaimed_since(stamp: int) -> Callable[[int], bool]:
    """Nobody claimed the blob after its creator wrote it: the mtime is still the creator's."""
    return lambda mtime: mtime == stamp


def discard(engine: Engine, store: BlobStore, blobs: Iterable[StoredBlob]) -> int:
    """Delete the blobs a write that did not commit created, unless claimed or used since.

    The same write may have put one blob several times (one screenshot attached twice, in
    ``blobs``' order): its own later claims are not someone else's, so the last stamp it left is
    the one to match, as long as each of its claims found its previous stamp. A claim that found
    another mtime came after someone else's claim: that writer may be using the blob, so it
    stays (for the sweep to judge).
    """
    last: dict[str, int | None] = {}
    for blob in blobs:
        if blob.created:
            last[blob.sha256] = blob.stamp
        elif blob.sha256 in last:
            mine = last[blob.sha256]
            last[blob.sha256] = blob.stamp if mine is not None and blob.found == mine else None
    created = {sha: stamp for sha, stamp in last.items() if stamp is not None}
    if not created:
        return 0
    keep = _referenced_now(engine, created)
    if keep is None:
        return 0
    removed = 0
    for sha, stamp in created.items():
        if sha not in keep and store.reclaim(sha, removable=_unclaimed_since(stamp)):
            removed += 1
    if removed:
        logger.info("removed %d stored files of an ingest that did not commit", removed)
    return removed


def reclaim_unreferenced(
    engine: Engine, store: BlobStore, candidates: Iterable[str], *, grace_seconds: float
) -> int:
    """Delete the candidates no committed row references and nobody claimed within the grace
    period; the others stay for a later sweep."""
    candidates = set(candidates)
    if not candidates:
        return 0
    cutoff = _cutoff_ns(grace_seconds)
    keep = _referenced_now(engine, candidates)
    if keep is None:
        return 0
    removed = sum(
        1 for sha in candidates - keep if store.reclaim(sha, removable=lambda mtime: mtime < cutoff)
    )
    if removed:
        logger.info("removed %d unreferenced stored files", removed)
    return removed


def engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def cleanup_after_commit(session: Session, store: BlobStore, candidates: set[str]) -> None:
    """Once ``session`` commits the removal of rows, delete the files they alone referenced
    (those claimed within the store's grace period are left to the sweep)."""
    if candidates:
        engine = engine_of(session)
        grace = store.grace_seconds
        after_commit(
            session, lambda: reclaim_unreferenced(engine, store, candidates, grace_seconds=grace)
        )


def cleanup_after_rollback(session: Session, store: BlobStore, blobs: list[StoredBlob]) -> None:
    """If ``session`` rolls back, discard the blobs it stored (``blobs`` may grow until then)."""
    engine = engine_of(session)
    after_rollback(session, lambda: discard(engine, store, blobs))


@dataclass(slots=True)
class SweepReport:
    """What a sweep found (and, when applied, removed)."""

    applied: bool
    orphans: int = 0
    orphan_bytes: int = 0
    leftovers: int = 0
    leftover_bytes: int = 0
    restored: int = 0
    removed: int = 0
    missing: int = 0  # rows whose file is not in the store
    missing_examples: list[str] = field(default_factory=list)


def _chunks(files: Iterator[StoredFile]) -> Iterator[list[StoredFile]]:
    chunk: list[StoredFile] = []
    for item in files:
        chunk.append(item)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def sweep(
    engine: Engine,
    store: BlobStore,
    *,
    grace_seconds: float,
    apply: bool,
    check_rows: bool = False,
) -> SweepReport:
    """Find (and with ``apply`` remove) orphan blobs and temporary leftovers unclaimed for
    ``grace_seconds``; with ``check_rows``, also count rows whose file is missing.

    Safe to run in several processes at once and beside ingests: see the module docstring.
    """
    report = SweepReport(applied=apply)
    cutoff = _cutoff_ns(grace_seconds)
    for chunk in _chunks(b for b in store.iter_blobs() if b.mtime_ns < cutoff):
        with Session(engine) as session:
            keep = referenced(session, (b.name for b in chunk))
        for blob in chunk:
            if blob.name in keep:
                continue
            if not apply:
                report.orphans += 1
                report.orphan_bytes += blob.size
            elif store.reclaim(blob.name, removable=lambda mtime: mtime < cutoff):
                report.orphans += 1
                report.orphan_bytes += blob.size
                report.removed += 1
    stale = [f for f in store.iter_leftovers() if f.mtime_ns < cutoff]
    with Session(engine) as session:
        aside_in_use = referenced(session, (f.blob for f in stale if f.blob is not None))
    for leftover in stale:
        restore = leftover.blob is not None and leftover.blob in aside_in_use
        if restore:
            report.restored += 1
        else:
            report.leftovers += 1
            report.leftover_bytes += leftover.size
        if apply:
            store.remove_leftover(leftover, restore=restore)
            report.removed += 0 if restore else 1
    if check_rows:
        _count_missing(engine, store, report)
    return report


def _count_missing(engine: Engine, store: BlobStore, report: SweepReport) -> None:
    query = union(select(Attachment.sha256), select(ReportFile.sha256))
    with Session(engine) as session:
        for sha in session.execute(query).scalars():
            if not store.exists(sha):
                report.missing += 1
                if len(report.missing_examples) < 20:
                    report.missing_examples.append(sha)
