"""``/api/projects/{ref}/retention`` (policy, preview), ``/api/projects/{ref}/usage`` and
``/api/test-runs/{run_id}/pin``. Owners and project admins (``project:edit``) set the policy;
whoever may delete a run (``runs:delete``) may pin it so that retention never does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from playdeck.audit.service import Actor
from playdeck.auth.client import ClientInfo
from playdeck.auth.dependencies import ClientDep
from playdeck.authz.permissions import Permission
from playdeck.deps import BaseUrlDep, SessionDep
from playdeck.projects.access import ProjectAccess
from playdeck.projects.dependencies import project_access
from playdeck.retention import service
from playdeck.retention.schemas import DiskUsage, ProjectPrune, RetentionPolicy, RetentionPolicyIn
from playdeck.runs.access import RunAccess, run_access
from playdeck.runs.schemas import Run

router = APIRouter(tags=["retention"])

Editors = Annotated[ProjectAccess, project_access(Permission.PROJECT_EDIT)]
RunDeleters = Annotated[RunAccess, run_access(Permission.RUNS_DELETE)]


@router.get("/api/projects/{ref}/retention", response_model=RetentionPolicy)
def get_retention_policy(session: SessionDep, access: Editors) -> RetentionPolicy:
    """The project's retention policy (all limits ``null``: everything is kept)."""
    return service.get_policy(session, project=access.project)


@router.put("/api/projects/{ref}/retention", response_model=RetentionPolicy)
def set_retention_policy(
    data: RetentionPolicyIn, session: SessionDep, client: ClientDep, access: Editors
) -> RetentionPolicy:
    """Replace the policy. Runs go when older than ``keep_days`` or not among the newest
    ``keep_last``; their attachments and report files after ``files_days``; ``branch_rules``
    (first match) replace these limits for their branches. Pinned runs are never pruned."""
    return service.set_policy(
        session,
        project=access.project,
        data=data,
        actor=Actor.of(access.principal),
        client=client,
    )


@router.get("/api/projects/{ref}/retention/preview", response_model=ProjectPrune)
def preview_retention(session: SessionDep, access: Editors) -> ProjectPrune:
    """The runs the next prune would delete, and those whose files it would remove."""
    return service.preview(session, project=access.project)


@router.get("/api/projects/{ref}/usage", response_model=DiskUsage)
def get_disk_usage(session: SessionDep, access: Editors) -> DiskUsage:
    """Runs, results and stored bytes of the project."""
    return service.disk_usage(session, project=access.project)


@dataclass(frozen=True, slots=True)
class _Pinning:
    """What pinning or unpinning a run needs besides the run (the route's ``RunDeleters``)."""

    session: Session
    client: ClientInfo
    base_url: str

    def set(self, access: RunAccess, *, pinned: bool) -> Run:
        service.set_pinned(
            self.session,
            run=access.run,
            project=access.project,
            pinned=pinned,
            actor=Actor.of(access.principal),
            client=self.client,
        )
        return Run.of(access.run, access.project, self.base_url)


def _pinning(session: SessionDep, client: ClientDep, links: BaseUrlDep) -> _Pinning:
    return _Pinning(session, client, links)


PinningDep = Annotated[_Pinning, Depends(_pinning)]


@router.put("/api/test-runs/{run_id}/pin", response_model=Run)
def pin_run(access: RunDeleters, pinning: PinningDep) -> Run:
    """Pin the run: retention never deletes it nor its files."""
    return pinning.set(access, pinned=True)


@router.delete("/api/test-runs/{run_id}/pin", response_model=Run)
def unpin_run(access: RunDeleters, pinning: PinningDep) -> Run:
    """Unpin the run: retention treats it like any other again."""
    return pinning.set(access, pinned=False)
