"""``/projects/{slug}/settings``: a project's Settings tab, for its owners and admins
(``project:edit``) and global administrators: name and description, the retention policy with a
preview of what it removes, pinned runs, disk usage, and (owners: ``project:delete``) deleting
the project after a confirmation step.

Every form posts with the session's CSRF token; the services behind the JSON API
(``projects.service``, ``retention.service``) do the work and decide what is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from playdeck.audit.service import Actor
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import Permission
from playdeck.authz.service import project_permissions
from playdeck.deps import BlobStoreDep
from playdeck.errors import AppError
from playdeck.models import Project
from playdeck.projects import service as projects_service
from playdeck.projects.access import ProjectAccess
from playdeck.projects.dependencies import project_access
from playdeck.projects.schemas import ProjectUpdate
from playdeck.retention import service as retention
from playdeck.retention.schemas import RetentionPolicy, RetentionPolicyIn
from playdeck.runs import service as runs_service
from playdeck.runs.repository import RunFilter
from playdeck.web.context import pager, project_crumbs, project_page, project_page_on
from playdeck.web.errors import Page
from playdeck.web.forms import (
    NO_STORE,
    Confirmation,
    FormPost,
    PostDep,
    confirm_page,
    done,
    parse_form,
    refusals_on,
)
from playdeck.web.params import CursorQuery
from playdeck.web.rendering import Notice
from playdeck.web.service_account_rows import service_account_rows
from playdeck.web.views import PageView, ViewDep

router = APIRouter()

Editors = Annotated[ProjectAccess, project_access(Permission.PROJECT_EDIT)]
Deleters = Annotated[ProjectAccess, project_access(Permission.PROJECT_DELETE)]
# Blank rows offered under the existing branch rules.
SPARE_RULE_ROWS = 2
LIMIT_FIELDS = ("keep_days", "keep_last", "files_days")
RUNS_PER_PAGE = 25


@dataclass(slots=True)
class RuleRow:
    branch: str = ""
    keep_days: str = ""
    keep_last: str = ""
    files_days: str = ""


@dataclass(slots=True)
class RetentionForm:
    keep_days: str = ""
    keep_last: str = ""
    files_days: str = ""
    rules: list[RuleRow] = field(default_factory=list)
    error: str | None = None

    @classmethod
    def of(cls, policy: RetentionPolicy) -> RetentionForm:
        def shown(value: int | None) -> str:
            return "" if value is None else str(value)

        return cls(
            keep_days=shown(policy.keep_days),
            keep_last=shown(policy.keep_last),
            files_days=shown(policy.files_days),
            rules=[
                RuleRow(
                    branch=rule.branch,
                    keep_days=shown(rule.keep_days),
                    keep_last=shown(rule.keep_last),
                    files_days=shown(rule.files_days),
                )
                for rule in policy.branch_rules
            ],
        )

    def with_spare_rows(self) -> list[RuleRow]:
        return [*self.rules, *(RuleRow() for _ in range(SPARE_RULE_ROWS))]

    def data(self) -> RetentionPolicyIn:
        """The policy the form describes; a blank field is "no limit", a blank row is skipped.
        Invalid input is a 422 ``InvalidInput`` in words a person reads."""

        def value(text: str) -> str | None:
            return text.strip() or None

        rules = [
            {
                "branch": row.branch,
                **{name: value(getattr(row, name)) for name in LIMIT_FIELDS},
            }
            for row in self.rules
            if row.branch.strip() or any(getattr(row, name).strip() for name in LIMIT_FIELDS)
        ]
        return parse_form(
            RetentionPolicyIn,
            {
                **{name: value(getattr(self, name)) for name in LIMIT_FIELDS},
                "branch_rules": rules,
            },
        )


class GeneralFields(BaseModel):
    """What the General form posts."""

    name: Annotated[str, Field(max_length=400)] = ""
    description: Annotated[str, Field(max_length=10_000)] = ""
    default_branch: Annotated[str, Field(max_length=600)] = ""


@dataclass(slots=True)
class GeneralForm:
    name: str
    description: str
    default_branch: str = ""
    error: str | None = None


def settings_url(project: Project) -> str:
    return f"/projects/{project.slug}/settings"


def _page(
    view: PageView,
    principal: Principal,
    project: Project,
    *,
    general: GeneralForm | None = None,
    form: RetentionForm | None = None,
    cursor: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    session = view.session
    policy = retention.get_policy(session, project=project)
    runs, next_cursor = runs_service.list_runs(
        session,
        principal=principal,
        project_ref=str(project.id),
        where=RunFilter(),
        cursor=cursor,
        limit=RUNS_PER_PAGE,
        base_url="",
    )
    granted = project_permissions(session, principal, project.id)
    form = form or RetentionForm.of(policy)
    errors = [e for e in ((general.error if general else None), form.error) if e]
    return project_page(
        view,
        principal,
        project,
        "projects/settings.html",
        tab="settings",
        status_code=status_code,
        headers=dict(NO_STORE),
        notices=[Notice("error", e) for e in errors] or None,
        general=general
        or GeneralForm(project.name, project.description or "", project.default_branch or ""),
        form=form,
        rule_rows=form.with_spare_rows(),
        policy=policy,
        preview=retention.preview(session, project=project),
        usage=retention.disk_usage(session, project=project),
        pinned=retention.pinned_runs(session, project=project),
        runs=runs,
        **pager(view.request, cursor=cursor, next_cursor=next_cursor),
        may_delete_project=Permission.PROJECT_DELETE in granted,
        service_accounts=service_account_rows(session, project),
        may_pin=Permission.RUNS_DELETE in granted,
    )


@router.get("/projects/{ref}/settings", response_class=HTMLResponse)
def show_project_settings(
    view: ViewDep, access: Editors, cursor: CursorQuery = None
) -> HTMLResponse:
    return _page(view, access.principal, access.project, cursor=cursor)


def _page_on(
    post: FormPost,
    access: ProjectAccess,
    *,
    general: GeneralForm | None = None,
    form: RetentionForm | None = None,
) -> Page:
    """The Settings tab showing a refusal in the form that was refused."""

    def show(view: PageView, project: Project, refusal: AppError) -> Response:
        for refused in (general, form):
            if refused is not None:
                refused.error = refusal.detail
        return _page(
            view, access.principal, project, general=general, form=form, status_code=refusal.status
        )

    return project_page_on(post, access, Permission.PROJECT_EDIT, show)


@router.post("/projects/{ref}/settings/general", response_class=HTMLResponse, response_model=None)
def update_project_settings(
    post: PostDep, access: Editors, fields: Annotated[GeneralFields, Form()]
) -> Response:
    """Rename the project, change its description or its default branch (its address, the
    slug, stays)."""
    project = access.project
    general = GeneralForm(fields.name, fields.description, fields.default_branch)
    with refusals_on(_page_on(post, access, general=general)):
        changes = {
            "name": fields.name,
            "description": fields.description.strip() or None,
            "default_branch": fields.default_branch.strip() or None,
        }
        data = parse_form(ProjectUpdate, changes)
        projects_service.update_project(post.session, project=project, data=data)
    return done(settings_url(project), "project-updated")


@router.post("/projects/{ref}/settings/retention", response_class=HTMLResponse, response_model=None)
def update_retention_settings(
    post: PostDep,
    access: Editors,
    keep_days: Annotated[str, Form(max_length=20)] = "",
    keep_last: Annotated[str, Form(max_length=20)] = "",
    files_days: Annotated[str, Form(max_length=20)] = "",
    rule_branch: Annotated[list[str] | None, Form()] = None,
    rule_keep_days: Annotated[list[str] | None, Form()] = None,
    rule_keep_last: Annotated[list[str] | None, Form()] = None,
    rule_files_days: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Save the retention policy; each row of the rules table is one branch rule."""
    project, principal = access.project, access.principal
    columns = [rule_branch or [], rule_keep_days or [], rule_keep_last or [], rule_files_days or []]
    width = max(len(column) for column in columns)
    padded = [column + [""] * (width - len(column)) for column in columns]
    form = RetentionForm(
        keep_days=keep_days,
        keep_last=keep_last,
        files_days=files_days,
        rules=[RuleRow(*row) for row in zip(*padded, strict=True)],
    )
    with refusals_on(_page_on(post, access, form=form)):
        retention.set_policy(
            post.session,
            project=project,
            data=form.data(),
            actor=Actor.of(principal),
            client=post.client,
        )
    return done(settings_url(project), "retention-saved")


def _deletion(project: Project) -> Confirmation:
    return Confirmation(
        title=f"Delete {project.name}",
        message=(
            f"Delete the project {project.name} with all its runs, results, attachments and "
            "reports? This cannot be undone."
        ),
        warning="Members lose access, and API keys bound to this project stop working.",
        action=f"/projects/{project.slug}/delete",
        button="Delete project",
        back=settings_url(project),
        crumbs=project_crumbs(project, ("Settings", settings_url(project))),
    )


@router.get("/projects/{ref}/delete", response_class=HTMLResponse)
def confirm_delete_project(request: Request, access: Deleters) -> HTMLResponse:
    return confirm_page(request, access.principal, _deletion(access.project))


@router.post("/projects/{ref}/delete", response_class=HTMLResponse, response_model=None)
def delete_project(post: PostDep, store: BlobStoreDep, access: Deleters) -> Response:
    """Delete the project; its stored files go once the deletion has committed."""
    actor = Actor.of(access.principal)
    projects_service.delete_project(
        post.session, project=access.project, store=store, actor=actor, client=post.client
    )
    return done("/projects", "project-deleted")
