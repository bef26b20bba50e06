"""``/projects/{slug}/members``: the project's Members tab.

Everyone who may read the project's members (``members:read``: each project role, from viewer
up, and global administrators; never an anonymous public-read visitor, the members are user
data) sees the list. Project admins, owners and global administrators get the controls, each
offered only where the service would accept it: an admin neither touches owners nor grants
``owner``, nobody raises their own role, a project keeps one owner. ``members.service`` (the code
behind ``/api/projects/{ref}/members``) refuses anything else anyway, with the message shown.

The forms post to their own paths (``.../members/add``, ``.../members/{user}/role``): the JWT
login API's ``POST /projects/{id}/members`` is the JSON API's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from playdeck.auth.client import ClientInfo
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import PROJECT_ROLES, Permission, ProjectRole
from playdeck.authz.service import project_permissions
from playdeck.errors import AppError, InvalidInput, NotFound
from playdeck.members import service as members_service
from playdeck.members.schemas import MemberCreate, MemberUpdate
from playdeck.models import Project, ProjectMember, User
from playdeck.projects.access import ProjectAccess
from playdeck.projects.dependencies import project_access
from playdeck.projects.service import get_project
from playdeck.web.context import project_crumbs, project_page, project_page_on
from playdeck.web.errors import Page
from playdeck.web.forms import (
    NO_STORE,
    Confirmation,
    FormPost,
    PostDep,
    confirm_page,
    confirmation_on,
    done,
    parse_form,
    refusals_on,
)
from playdeck.web.params import page_id, text
from playdeck.web.rendering import Notice
from playdeck.web.views import PageView, ViewDep

router = APIRouter()

Readers = Annotated[ProjectAccess, project_access(Permission.MEMBERS_READ)]
Managers = Annotated[ProjectAccess, project_access(Permission.MEMBERS_MANAGE)]


@dataclass(frozen=True, slots=True)
class MemberRow:
    member: ProjectMember
    user: User
    is_self: bool
    # Roles this viewer may set here (empty: no role control), and whether they may remove.
    roles: tuple[str, ...]
    removable: bool
    only_owner: bool


@dataclass(slots=True)
class AddForm:
    user: str = ""
    role: str = ProjectRole.MEMBER.value
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Rights:
    """What the viewer may do with this project's members (``authz`` decides; pages only read)."""

    manage: bool
    manage_owners: bool
    is_admin: bool
    user_id: int | None

    @classmethod
    def of(cls, session: Session, principal: Principal, project: Project) -> Rights:
        granted = project_permissions(session, principal, project.id)
        return cls(
            manage=Permission.MEMBERS_MANAGE in granted,
            manage_owners=Permission.OWNERS_MANAGE in granted,
            is_admin=principal.is_admin,
            user_id=principal.user_id,
        )

    def grantable(self) -> tuple[str, ...]:
        """Roles this viewer may give: ``owner`` only by owners (and administrators)."""
        if not self.manage:
            return ()
        return tuple(
            r.value for r in PROJECT_ROLES if r is not ProjectRole.OWNER or self.manage_owners
        )

    def row(self, member: ProjectMember, user: User, owners: int) -> MemberRow:
        role = ProjectRole(member.role)
        is_self = user.id == self.user_id
        only_owner = role is ProjectRole.OWNER and owners == 1
        touchable = self.manage and (role is not ProjectRole.OWNER or self.manage_owners)
        roles: tuple[str, ...] = ()
        if touchable and not only_owner:
            roles = tuple(
                r
                for r in self.grantable()
                # Nobody raises their own role (administrators aside).
                if not is_self or self.is_admin or ProjectRole(r).rank <= role.rank
            )
        return MemberRow(
            member=member,
            user=user,
            is_self=is_self,
            roles=roles if len(roles) > 1 else (),
            removable=touchable and not only_owner,
            only_owner=only_owner,
        )


def _members_page(
    view: PageView,
    principal: Principal,
    project: Project,
    *,
    form: AddForm | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    session = view.session
    rights = Rights.of(session, principal, project)
    rows = members_service.list_members(session, project=project)
    owners = sum(1 for member, _user in rows if member.role == ProjectRole.OWNER)
    return project_page(
        view,
        principal,
        project,
        "projects/members.html",
        tab="members",
        status_code=status_code,
        headers=dict(NO_STORE),
        notices=[Notice("error", error)] if error else None,
        members=[rights.row(member, user, owners) for member, user in rows],
        rights=rights,
        grantable=rights.grantable(),
        form=form or AddForm(),
    )


def _members_url(project: Project) -> str:
    return f"/projects/{project.slug}/members"


@router.get("/projects/{ref}/members", response_class=HTMLResponse)
def show_members(view: ViewDep, access: Readers) -> HTMLResponse:
    return _members_page(view, access.principal, access.project)


def _members_page_on(post: FormPost, access: ProjectAccess, form: AddForm | None = None) -> Page:
    """The Members tab showing a refusal: in the add form when it was refused, else as the
    page's notice."""
    principal = access.principal

    def show(view: PageView, project: Project, refusal: AppError) -> Response:
        if form is None:
            return _members_page(
                view, principal, project, error=refusal.detail, status_code=refusal.status
            )
        form.error = refusal.detail
        if refusal.code == "user_not_found":
            form.error = (
                f"No user is called “{text(form.user)}”. Ask an administrator to create the "
                "account first."
            )
        return _members_page(view, principal, project, form=form, status_code=refusal.status)

    return project_page_on(post, access, Permission.MEMBERS_READ, show)


def _add(
    session: Session,
    principal: Principal,
    project: Project,
    who: str,
    role: str,
    client: ClientInfo,
) -> None:
    """Add the user named ``who``: by username, else (when it looks like one) by email."""
    fields = ("username", "email") if "@" in who else ("username",)
    for field in fields:
        last = field == fields[-1]
        try:
            data = parse_form(MemberCreate, {field: who, "role": role})
        except InvalidInput:
            if last:
                raise
            continue
        try:
            members_service.add_member(
                session, project=project, principal=principal, data=data, client=client
            )
        except NotFound as exc:
            if last or exc.code != "user_not_found":
                raise
        else:
            return


@router.post("/projects/{ref}/members/add", response_class=HTMLResponse, response_model=None)
def add_member(
    post: PostDep,
    access: Managers,
    user: Annotated[str, Form(max_length=254)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Add a user (by username or email) with a role; ``owner`` only by an owner."""
    project, principal = access.project, access.principal
    with refusals_on(_members_page_on(post, access, AddForm(user=user, role=role))):
        who = text(user)
        if who is None:
            raise InvalidInput("Enter the username or email of the person to add.")
        _add(post.session, principal, project, who, role, post.client)
    return done(_members_url(project), "member-added")


@router.post(
    "/projects/{ref}/members/{user_id}/role", response_class=HTMLResponse, response_model=None
)
def change_member_role(
    user_id: str,
    post: PostDep,
    access: Managers,
    role: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Change a member's role. Owners are changed only by owners; the last owner stays."""
    project, principal = access.project, access.principal
    member_id = page_id(user_id, what="Member")
    with refusals_on(_members_page_on(post, access)):
        data = parse_form(MemberUpdate, {"role": role})
        members_service.change_role(
            post.session,
            project=project,
            principal=principal,
            user_id=member_id,
            role=data.role,
            client=post.client,
        )
    return done(_members_url(project), "member-role-changed")


def _removal(principal: Principal, project: Project, user: User) -> Confirmation:
    back = _members_url(project)
    yourself = user.id == principal.user_id
    return Confirmation(
        title=f"Remove {user.username} from {project.name}",
        message=(
            f"Remove {user.username} from {project.name}? They lose access to its runs and "
            "results (their account stays)."
        ),
        warning="This is you: you will lose access to this project." if yourself else None,
        action=f"{back}/{user.id}/remove",
        button="Remove member",
        back=back,
        crumbs=project_crumbs(project, ("Members", back)),
    )


def _removal_of(session: Session, principal: Principal, ref: str, user_id: str) -> Confirmation:
    """``_removal`` of the project and the member the request names, loaded from ``session``."""
    project = get_project(
        session, principal=principal, ref=ref, permission=Permission.MEMBERS_MANAGE
    )
    return _removal(principal, project, _member(session, project, user_id))


def _member(session: Session, project: Project, user_id: str) -> User:
    wanted = page_id(user_id, what="Member")
    for _member_row, user in members_service.list_members(session, project=project):
        if user.id == wanted:
            return user
    raise NotFound("Member not found", code="member_not_found")


@router.get("/projects/{ref}/members/{user_id}/remove", response_class=HTMLResponse)
def confirm_remove_member(user_id: str, view: ViewDep, access: Managers) -> HTMLResponse:
    project, principal = access.project, access.principal
    removal = _removal(principal, project, _member(view.session, project, user_id))
    return confirm_page(view.request, principal, removal)


@router.post(
    "/projects/{ref}/members/{user_id}/remove", response_class=HTMLResponse, response_model=None
)
def remove_member(user_id: str, post: PostDep, access: Managers) -> Response:
    """Remove a member. Owners are removed only by owners, and never the last one."""
    project, principal = access.project, access.principal
    member_id = page_id(user_id, what="Member")
    ref = str(project.id)  # read now: the refusal's page is rendered after a rollback
    page = confirmation_on(
        post.request, principal, lambda reading: _removal_of(reading, principal, ref, user_id)
    )
    with refusals_on(page, unless=(NotFound,)):
        members_service.remove_member(
            post.session,
            project=project,
            principal=principal,
            user_id=member_id,
            client=post.client,
        )
    if member_id == principal.user_id and not principal.is_admin:
        return done("/projects", "member-removed")  # they may not read the project any more
    return done(_members_url(project), "member-removed")
