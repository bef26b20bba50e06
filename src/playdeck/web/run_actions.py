"""A run's actions on its page: pin, unpin, and delete after a confirmation step. Whoever may
delete a run (``runs:delete``: project admins, owners, global administrators) may pin it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from playdeck.audit.service import Actor
from playdeck.auth.dependencies import ClientDep
from playdeck.authz.permissions import Permission
from playdeck.deps import BlobStoreDep, SessionDep
from playdeck.models import Project, Run
from playdeck.retention import service as retention
from playdeck.runs import service as runs_service
from playdeck.runs.access import RunAccess, run_access
from playdeck.web.context import project_crumbs
from playdeck.web.forms import MAX_BACK, Confirmation, back_to, confirm_page, done
from playdeck.web.params import page_run_id

router = APIRouter()

RunDeleters = Annotated[RunAccess, run_access(Permission.RUNS_DELETE, run_id=page_run_id)]
BackField = Annotated[str, Form(max_length=MAX_BACK)]


def _back(value: str, run: Run, project: Project) -> str:
    """The run's page, or the project's Settings tab when the action came from there."""
    here = f"/runs/{run.id}"
    allowed = frozenset({here, f"/projects/{project.slug}/settings"})
    return back_to(value, allowed=allowed, default=here)


def _set_pinned(
    session: Session, access: RunAccess, client: ClientDep, back: str, *, pinned: bool
) -> Response:
    retention.set_pinned(
        session,
        run=access.run,
        project=access.project,
        pinned=pinned,
        actor=Actor.of(access.principal),
        client=client,
    )
    target = _back(back, access.run, access.project)
    return done(target, "run-pinned" if pinned else "run-unpinned")


@router.post("/runs/{run_id}/pin", response_class=HTMLResponse, response_model=None)
def pin_run_page(
    session: SessionDep, client: ClientDep, access: RunDeleters, back: BackField = ""
) -> Response:
    return _set_pinned(session, access, client, back, pinned=True)


@router.post("/runs/{run_id}/unpin", response_class=HTMLResponse, response_model=None)
def unpin_run_page(
    session: SessionDep, client: ClientDep, access: RunDeleters, back: BackField = ""
) -> Response:
    return _set_pinned(session, access, client, back, pinned=False)


@router.get("/runs/{run_id}/delete", response_class=HTMLResponse)
def confirm_delete_run(request: Request, access: RunDeleters) -> HTMLResponse:
    run, project = access.run, access.project
    name = run.name or f"run #{run.id}"
    return confirm_page(
        request,
        access.principal,
        Confirmation(
            title=f"Delete {name}",
            message=(
                f"Delete {name} of {project.name} with its results, attachments and reports? "
                "This cannot be undone."
            ),
            warning="This run is pinned: retention would have kept it." if run.pinned else None,
            action=f"/runs/{run.id}/delete",
            button="Delete run",
            back=f"/runs/{run.id}",
            crumbs=project_crumbs(project, (name, f"/runs/{run.id}")),
        ),
    )


@router.post("/runs/{run_id}/delete", response_class=HTMLResponse, response_model=None)
def delete_run_page(
    session: SessionDep, store: BlobStoreDep, client: ClientDep, access: RunDeleters
) -> Response:
    """Delete the run; its stored files go once the deletion has committed."""
    runs_service.delete_run(
        session, run=access.run, store=store, actor=Actor.of(access.principal), client=client
    )
    return done(f"/projects/{access.project.slug}", "run-deleted")
