"""Issuing one-time links from the dashboard: an administrator's invitation (``/admin/users``'s
Invite panel), a project owner's (the Members tab), and a password-reset link (the user's reset
page). Each shows the link once, on its own page, never stored by a cache.

The services are ``invitations.service``'s, the ones behind ``/api/admin/invitations``,
``/api/projects/{ref}/invitations`` and ``/api/admin/users/{id}/password-reset-link``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse, Response

from playdeck.auth.principal import GlobalRole, Principal
from playdeck.authz.permissions import Permission, ProjectRole
from playdeck.invitations import service
from playdeck.invitations.schemas import InvitationCreate
from playdeck.invitations.service import IssuedLink
from playdeck.projects.access import ProjectAccess
from playdeck.projects.dependencies import project_access
from playdeck.web.admin_users import Admin, TargetUser
from playdeck.web.forms import (
    FormPost,
    PostDep,
    form_page,
    form_page_on,
    parse_form,
    refusals_on,
)

router = APIRouter()

Owners = Annotated[ProjectAccess, project_access(Permission.OWNERS_MANAGE)]
Text = Annotated[str, Form(max_length=254)]
LINK_PAGE = "admin/link_issued.html"


def _invitation(email: str, role: str, memberships: list[dict[str, str]]) -> InvitationCreate:
    return parse_form(
        InvitationCreate,
        {"email": email.strip() or None, "role": role, "memberships": memberships},
    )


def _link_page(
    post: FormPost,
    principal: Principal,
    issue: Callable[[], IssuedLink],
    *,
    title: str,
    back: str,
) -> Response:
    """The page showing the link ``issue`` makes once, or why none was made."""
    request = post.request
    with refusals_on(form_page_on(request, principal, LINK_PAGE, title=title, back=back)):
        issued = issue()
    return form_page(request, principal, LINK_PAGE, title=title, back=back, issued=issued)


@router.post("/admin/users/invite", response_class=HTMLResponse, response_model=None)
def invite(
    post: PostDep,
    principal: Admin,
    email: Text = "",
    role: Annotated[str, Form(max_length=16)] = GlobalRole.USER.value,
    project: Text = "",
    project_role: Annotated[str, Form(max_length=16)] = ProjectRole.MEMBER.value,
) -> Response:
    """Invite someone with a global role and, optionally, a role in one project."""

    def issue() -> IssuedLink:
        grants = [{"project": project.strip(), "role": project_role}] if project.strip() else []
        return service.create_invitation(
            post.session,
            principal=principal,
            settings=post.settings,
            data=_invitation(email, role, grants),
            base_url=post.links,
            client=post.client,
        )

    return _link_page(post, principal, issue, title="Invitation", back="/admin/users")


@router.post("/projects/{ref}/members/invite", response_class=HTMLResponse, response_model=None)
def invite_to_project(
    post: PostDep,
    access: Owners,
    email: Text = "",
    role: Annotated[str, Form(max_length=16)] = ProjectRole.MEMBER.value,
) -> Response:
    """A project owner invites someone into this project."""
    project, principal = access.project, access.principal

    def issue() -> IssuedLink:
        grants = [{"project": str(project.id), "role": role}]
        return service.create_invitation(
            post.session,
            principal=principal,
            settings=post.settings,
            data=_invitation(email, GlobalRole.USER.value, grants),
            base_url=post.links,
            project=project,
            client=post.client,
        )

    title, back = f"Invitation to {project.name}", f"/projects/{project.slug}/members"
    return _link_page(post, principal, issue, title=title, back=back)


@router.post("/admin/users/{user_id}/reset-link", response_class=HTMLResponse, response_model=None)
def issue_reset_link(post: PostDep, principal: Admin, user: TargetUser) -> Response:
    """A one-time link with which the user sets their own new password."""

    def issue() -> IssuedLink:
        return service.issue_password_reset(
            post.session,
            principal=principal,
            settings=post.settings,
            user=user,
            base_url=post.links,
            client=post.client,
        )

    title = f"Password reset for {user.username}"
    return _link_page(post, principal, issue, title=title, back="/admin/users")
