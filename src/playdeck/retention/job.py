"""Applying the policies: ``prune`` deletes in small batches, one transaction each.

Each batch takes the write lock only briefly (SQLite has one writer), so an ingest waiting for it
gets in between two batches instead of behind the whole prune. Files follow the database: a
batch's rows are deleted first, and the files no row references any more are removed only once
that batch has committed (``storage.gc.cleanup_after_commit``).

This module owns its transactions (one per batch, one for the audit event): a prune of a large
project is many units of work, not one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Actor, Trail
from playdeck.db import writer
from playdeck.kit.clock import utcnow
from playdeck.models import Project
from playdeck.retention import repository
from playdeck.retention.plan import Plan, batches, plan
from playdeck.retention.schemas import ProjectPrune, PruneReport, RetentionPolicy
from playdeck.storage.base import BlobStore
from playdeck.storage.gc import cleanup_after_commit, file_hashes

logger = logging.getLogger("playdeck.retention")

DEFAULT_BATCH_SIZE = 50
# Called after each committed batch (tests ingest there; a scheduler could pause there).
BatchHook = Callable[[], None]


def _projects(engine: Engine) -> list[tuple[Project, RetentionPolicy]]:
    with Session(engine, expire_on_commit=False) as session:
        return [
            (project, RetentionPolicy.model_validate(row))
            for project, row in repository.projects_with_policies(session)
        ]


def _plan(engine: Engine, project: Project, policy: RetentionPolicy, *, now: datetime) -> Plan:
    """What the policy removes from the project at ``now`` (reads only; one project's runs in
    memory at a time)."""
    with Session(engine) as session:
        return plan(policy, repository.run_facts(session, project.id), now=now)


def _apply(
    engine: Engine,
    store: BlobStore,
    project: Project,
    todo: Plan,
    done: ProjectPrune,
    *,
    now: datetime,
    batch_size: int,
    on_batch: BatchHook | None,
) -> None:
    """Apply ``todo`` batch by batch, recording in ``done`` what each committed batch did."""
    write_engine = writer(engine)
    steps = [(True, ids) for ids in batches(todo.delete, batch_size)]
    steps += [(False, ids) for ids in batches(todo.prune_files, batch_size)]
    for deleting, ids in steps:
        with Session(write_engine) as session:
            hashes = file_hashes(session, ids)
            if deleting:
                changed = repository.delete_unpinned_runs(session, project.id, ids)
                done.deleted_runs.extend(changed)
            else:
                changed = repository.prune_files(session, project.id, ids, now=now)
                done.pruned_files_runs.extend(changed)
            if changed:
                cleanup_after_commit(session, store, hashes)
            session.commit()
        if changed:
            # The files the batch alone referenced are gone by now (after-commit hook).
            done.removed_files += sum(1 for sha in hashes if not store.exists(sha))
        if on_batch is not None:
            on_batch()


def prune(
    engine: Engine,
    store: BlobStore,
    *,
    actor: Actor,
    dry_run: bool = False,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_batch: BatchHook | None = None,
) -> PruneReport:
    """Apply every project's policy; pinned runs are never touched. Audit-logged per project."""
    now = now or utcnow()
    report = PruneReport(dry_run=dry_run, projects=[])
    for project, policy in _projects(engine):
        todo = _plan(engine, project, policy, now=now)
        if not todo.delete and not todo.prune_files:
            continue
        if dry_run:
            report.projects.append(
                ProjectPrune(
                    project_id=project.id,
                    project=project.name,
                    deleted_runs=sorted(todo.delete),
                    pruned_files_runs=sorted(todo.prune_files),
                )
            )
            continue
        done = ProjectPrune(
            project_id=project.id, project=project.name, deleted_runs=[], pruned_files_runs=[]
        )
        try:
            _apply(
                engine,
                store,
                project,
                todo,
                done,
                now=now,
                batch_size=batch_size,
                on_batch=on_batch,
            )
        finally:
            # What committed batches did is audited even when a later batch fails.
            if done.deleted_runs or done.pruned_files_runs:
                _audit(engine, actor, done)
        report.projects.append(done)
    return report


def _audit(engine: Engine, actor: Actor, done: ProjectPrune) -> None:
    logger.info(
        "retention: project %r: %d runs deleted, files of %d runs removed, %d stored files removed",
        done.project,
        len(done.deleted_runs),
        len(done.pruned_files_runs),
        done.removed_files,
    )
    with Session(writer(engine)) as session:
        Trail(session, actor).record(
            Action.RETENTION_PRUNED,
            project_id=done.project_id,
            project=done.project,
            deleted_runs=len(done.deleted_runs),
            pruned_files_runs=len(done.pruned_files_runs),
            removed_files=done.removed_files,
        )
        session.commit()
