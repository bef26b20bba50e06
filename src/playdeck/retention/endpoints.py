"""``/api/projects/{ref}/retention`` (policy, preview), ``/api/projects/{ref}/usage`` and
``/api/test-runs/{run_id}/pin``. Owners and project admins (``project:edit``) set the policy;
whoever may delete a run (``runs:delete``) may pin it so that retention never does."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from playdeck.audit.service import Actor
from playdeck.auth.dependencies import ClientDep
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import authorize
from playdeck.deps import SessionDep, SettingsDep
from playdeck.projects.service import get_project
from playdeck.retention import service
from playdeck.retention.schemas import DiskUsage, ProjectPrune, RetentionPolicy, RetentionPolicyIn
from playdeck.runs import service as runs_service
from playdeck.runs.filters import IdPath
from playdeck.runs.schemas import Run

router = APIRouter(tags=["retention"])

Editors = Annotated[Principal, authorize(Permission.PROJECT_EDIT)]
RunDeleters = Annotated[Principal, authorize(Permission.RUNS_DELETE)]


@router.get("/api/projects/{ref}/retention", response_model=RetentionPolicy)
def get_retention_policy(ref: str, session: SessionDep, principal: Editors) -> RetentionPolicy:
    """The project's retention policy (all limits ``null``: everything is kept)."""
    project = get_project(session, principal=principal, ref=ref, permission=Permission.PROJECT_EDIT)
    return service.get_policy(session, project=project)


@router.put("/api/projects/{ref}/retention", response_model=RetentionPolicy)
def set_retention_policy(
    ref: str,
    data: RetentionPolicyIn,
    session: SessionDep,
    client: ClientDep,
    principal: Editors,
) -> RetentionPolicy:
    """Replace the policy. Runs go when older than ``keep_days`` or not among the newest
    ``keep_last``; their attachments and report files after ``files_days``; ``branch_rules``
    (first match) replace these limits for their branches. Pinned runs are never pruned."""
    project = get_project(session, principal=principal, ref=ref, permission=Permission.PROJECT_EDIT)
    return service.set_policy(
        session, project=project, data=data, actor=Actor.of(principal), client=client
    )


@router.get("/api/projects/{ref}/retention/preview", response_model=ProjectPrune)
def preview_retention(ref: str, session: SessionDep, principal: Editors) -> ProjectPrune:
    """The runs the next prune would delete, and those whose files it would remove."""
    project = get_project(session, principal=principal, ref=ref, permission=Permission.PROJECT_EDIT)
    return service.preview(session, project=project)


@router.get("/api/projects/{ref}/usage", response_model=DiskUsage)
def get_disk_usage(ref: str, session: SessionDep, principal: Editors) -> DiskUsage:
    """Runs, results and stored bytes of the project."""
    project = get_project(session, principal=principal, ref=ref, permission=Permission.PROJECT_EDIT)
    return service.disk_usage(session, project=project)


def _pin(
    request: Request,
    run_id: int,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: Principal,
    pinned: bool,
) -> Run:
    run, project = runs_service.get_run(
        session, principal=principal, run_id=run_id, permission=Permission.RUNS_DELETE
    )
    service.set_pinned(
        session,
        run=run,
        project=project,
        pinned=pinned,
        actor=Actor.of(principal),
        client=client,
    )
    base = (settings.public_url or str(request.base_url)).rstrip("/")
    return Run.of(run, project, base)


@router.put("/api/test-runs/{run_id}/pin", response_model=Run)
def pin_run(
    run_id: IdPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: RunDeleters,
) -> Run:
    """Pin the run: retention never deletes it nor its files."""
    return _pin(request, run_id, session, settings, client, principal, True)


@router.delete("/api/test-runs/{run_id}/pin", response_model=Run)
def unpin_run(
    run_id: IdPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: ClientDep,
    principal: RunDeleters,
) -> Run:
    """Unpin the run: retention treats it like any other again."""
    return _pin(request, run_id, session, settings, client, principal, False)
