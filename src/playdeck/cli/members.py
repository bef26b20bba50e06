"""``playdeck members``: list, add, remove and re-role a project's members, on the database.

The same service as ``/api/projects/{ref}/members`` and the project's members page, with the
same rules (a project keeps one owner, reporters take no project role, one membership per user)
and the same audit events, run with the operator's rights: an administrator, recorded as
``cli:<os user>``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session

from playdeck.audit.service import Actor
from playdeck.auth.principal import Principal
from playdeck.authz.permissions import ProjectRole
from playdeck.cli.config import fail
from playdeck.cli.tables import plain_table, when
from playdeck.cli.users import UserArgument, account_cells, database_session, find_user, out
from playdeck.members import service
from playdeck.members.schemas import MemberCreate
from playdeck.models import Project, User
from playdeck.projects import repository as projects

members_app = typer.Typer(
    help="Project members and their roles (works without a running server).",
    no_args_is_help=True,
)

ROLES = ", ".join(role.value for role in ProjectRole)
ProjectArgument = Annotated[str, typer.Argument(help="The project: id or slug.")]


def _project(session: Session, ref: str) -> Project:
    project = projects.get_by_ref(session, ref)
    if project is None:
        raise fail(f"no project {ref!r} (give an id or slug)")
    return project


def _project_and_user(session: Session, project: str, user: str) -> tuple[Project, User]:
    """The project and the user a command names (exits when either is unknown)."""
    return _project(session, project), find_user(session, user)


def _role(value: str) -> ProjectRole:
    try:
        return ProjectRole(value.strip().lower())
    except ValueError:
        raise fail(f"no role {value!r} (one of: {ROLES})", code=2) from None


@members_app.command("list")
def list_members(project: ProjectArgument) -> None:
    """The project's members, strongest role first."""
    with database_session() as session:
        found = _project(session, project)
        rows = (
            (*account_cells(user, member.role), when(member.created_at))
            for member, user in service.list_members(session, project=found)
        )
        columns = ("user id", "username", "email", "role", "active", "since")
        out.print(plain_table(columns, rows))


@members_app.command("add")
def add_member(
    project: ProjectArgument,
    user: UserArgument,
    role: str = typer.Option("member", "--role", help=f"One of: {ROLES}."),
) -> None:
    """Give a user a role in the project."""
    wanted = _role(role)
    with database_session() as session:
        found, account = _project_and_user(session, project, user)
        service.add_member(
            session,
            project=found,
            principal=Principal.builtin_admin(),
            data=MemberCreate(user_id=account.id, role=wanted),
            actor=Actor.cli(),
        )
        out.print(f"Added {account.username!r} to {found.slug!r} as {wanted.value}.")


@members_app.command("set-role")
def set_role(
    project: ProjectArgument,
    user: UserArgument,
    role: str = typer.Argument(..., help=f"The new role, one of: {ROLES}."),
) -> None:
    """Change a member's role (the last owner stays an owner)."""
    wanted = _role(role)
    with database_session() as session:
        found, account = _project_and_user(session, project, user)
        service.change_role(
            session,
            project=found,
            principal=Principal.builtin_admin(),
            user_id=account.id,
            role=wanted,
            actor=Actor.cli(),
        )
        out.print(f"{account.username!r} is now {wanted.value} of {found.slug!r}.")


@members_app.command("remove")
def remove_member(
    project: ProjectArgument,
    user: UserArgument,
) -> None:
    """Remove a member from the project (never its last owner)."""
    with database_session() as session:
        found, account = _project_and_user(session, project, user)
        service.remove_member(
            session,
            project=found,
            principal=Principal.builtin_admin(),
            user_id=account.id,
            actor=Actor.cli(),
        )
        out.print(f"Removed {account.username!r} from {found.slug!r}.")
