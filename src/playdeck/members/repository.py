"""SQL for project memberships. The authorization checks read it; so does the members API."""

from __future__ import annotations

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from playdeck.authz.permissions import PROJECT_ROLES, ProjectRole
from playdeck.kit import sql
from playdeck.models import Project, ProjectMember, User


def role_of(session: Session, *, project_id: int, user_id: int) -> str | None:
    """The user's role in the project, ``None`` when they are not a member (one index seek)."""
    return session.scalar(
        select(ProjectMember.role).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
        )
    )


def has_owner(session: Session, project_id: int) -> bool:
    """Whether a user owns the project (projects that global users create always have one)."""
    return (
        session.scalar(
            select(ProjectMember.user_id)
            .where(
                ProjectMember.project_id == project_id,
                ProjectMember.role == ProjectRole.OWNER.value,
            )
            .limit(1)
        )
        is not None
    )


def project_ids_of(user_id: int) -> Select[int]:
    """The ids of the projects ``user_id`` is a member of, as a subquery for list filters."""
    return select(ProjectMember.project_id).where(ProjectMember.user_id == user_id)


def get(session: Session, *, project_id: int, user_id: int) -> ProjectMember | None:
    return session.scalars(
        select(ProjectMember).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
        )
    ).first()


def list_members(session: Session, project_id: int) -> list[tuple[ProjectMember, User]]:
    """Members with their accounts, strongest role first, then by username."""
    strongest_first = case(
        {role.value: n for n, role in enumerate(PROJECT_ROLES)}, value=ProjectMember.role
    )
    rows = session.execute(
        select(ProjectMember, User)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == project_id)
        .order_by(strongest_first, func.lower(User.username))
    ).all()
    return [(member, user) for member, user in rows]


def add(session: Session, member: ProjectMember) -> ProjectMember:
    return sql.add(session, member)


def remove(session: Session, member: ProjectMember) -> None:
    session.delete(member)
    session.flush()


def lock_owner_ids(session: Session, project_id: int) -> list[int]:
    """The project's owners, their rows locked until commit (PostgreSQL), so two concurrent
    changes cannot each see "another owner remains" and leave none."""
    return list(
        session.scalars(
            select(ProjectMember.user_id)
            .where(
                ProjectMember.project_id == project_id,
                ProjectMember.role == ProjectRole.OWNER.value,
            )
            .order_by(ProjectMember.user_id)
            .with_for_update()
        )
    )


def sole_owned_projects(session: Session, user_id: int) -> list[str]:
    """Names of the projects whose only owner is ``user_id``."""
    owners = (
        select(ProjectMember.project_id)
        .where(ProjectMember.role == ProjectRole.OWNER.value)
        .group_by(ProjectMember.project_id)
        .having(func.count() == 1)
    )
    return list(
        session.scalars(
            select(Project.name)
            .join(ProjectMember, ProjectMember.project_id == Project.id)
            .where(
                ProjectMember.user_id == user_id,
                ProjectMember.role == ProjectRole.OWNER.value,
                ProjectMember.project_id.in_(owners),
            )
            .order_by(Project.name)
        )
    )
