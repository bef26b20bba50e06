"""Retention use cases behind the API and the pages: read and set a project's policy, pin and
unpin runs, disk usage. Services flush; the caller's unit of work commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from playdeck.audit.service import Action, Actor, Trail
from playdeck.auth.client import ClientInfo
from playdeck.kit.clock import utcnow
from playdeck.models import Project, Run
from playdeck.retention import repository
from playdeck.retention.plan import plan
from playdeck.retention.schemas import DiskUsage, ProjectPrune, RetentionPolicy, RetentionPolicyIn


def get_policy(session: Session, *, project: Project) -> RetentionPolicy:
    """The project's policy; without one, an empty policy (everything kept for ever)."""
    row = repository.get_policy(session, project.id)
    if row is None:
        return RetentionPolicy(project_id=project.id)
    return RetentionPolicy.model_validate(row)


def set_policy(
    session: Session,
    *,
    project: Project,
    data: RetentionPolicyIn,
    actor: Actor,
    client: ClientInfo | None = None,
) -> RetentionPolicy:
    """Replace the project's policy (an empty one removes it) and audit the change."""
    before = get_policy(session, project=project)
    policy = RetentionPolicy(project_id=project.id, **data.model_dump())
    if policy.is_empty:
        repository.delete_policy(session, project.id)
    else:
        repository.save_policy(
            session,
            project.id,
            keep_days=policy.keep_days,
            keep_last=policy.keep_last,
            files_days=policy.files_days,
            branch_rules=policy.stored_rules(),
        )
    Trail(session, actor, client).record(
        Action.RETENTION_POLICY_CHANGED,
        project_id=project.id,
        project=project.name,
        before=before.model_dump(mode="json", exclude={"project_id", "updated_at"}),
        after=data.model_dump(mode="json"),
    )
    return get_policy(session, project=project)


def set_pinned(
    session: Session,
    *,
    run: Run,
    project: Project,
    pinned: bool,
    actor: Actor,
    client: ClientInfo | None = None,
) -> Run:
    if run.pinned != pinned:
        repository.set_pinned(session, run, pinned)
        Trail(session, actor, client).record(
            Action.RUN_PINNED if pinned else Action.RUN_UNPINNED,
            run_id=run.id,
            project_id=project.id,
            project=project.name,
        )
    return run


def pinned_runs(session: Session, *, project: Project) -> list[Run]:
    return repository.pinned_runs(session, project.id)


def disk_usage(session: Session, *, project: Project) -> DiskUsage:
    return DiskUsage(project_id=project.id, **repository.usage(session, project.id))


def preview(session: Session, *, project: Project, now: datetime | None = None) -> ProjectPrune:
    """What a prune would remove from the project right now (its policy as stored)."""
    policy = get_policy(session, project=project)
    todo = plan(policy, repository.run_facts(session, project.id), now=now or utcnow())
    return ProjectPrune(
        project_id=project.id,
        project=project.name,
        deleted_runs=sorted(todo.delete),
        pruned_files_runs=sorted(todo.prune_files),
    )
