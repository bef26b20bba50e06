from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from playdeck.kit import sql
from playdeck.models import ProjectMember, ServiceAccount, User
from playdeck.users import repository as users


def add(session: Session, row: ServiceAccount) -> ServiceAccount:
    return sql.add(session, row)


def _owned_by(project_id: int | None) -> Select[ServiceAccount, User]:
    owner = (
        ServiceAccount.project_id.is_(None)
        if project_id is None
        else ServiceAccount.project_id == project_id
    )
    return users.with_owner(ServiceAccount, ServiceAccount.user_id).where(owner)


def list_for(session: Session, *, project_id: int | None) -> list[tuple[ServiceAccount, User]]:
    """A project's service accounts, or the global ones (``project_id`` None), by name."""
    rows = session.execute(_owned_by(project_id).order_by(User.username))
    return [(account, user) for account, user in rows]


def get(
    session: Session, account_id: int, *, project_id: int | None
) -> tuple[ServiceAccount, User] | None:
    """One of a project's (or the global) service accounts: another's is not found."""
    row = session.execute(_owned_by(project_id).where(ServiceAccount.id == account_id)).first()
    return (row[0], row[1]) if row is not None else None


def project_role(session: Session, *, project_id: int, user_id: int) -> str | None:
    return session.scalar(
        select(ProjectMember.role).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
        )
    )


def user_ids_of_project(session: Session, project_id: int) -> list[int]:
    return list(
        session.scalars(
            select(ServiceAccount.user_id).where(ServiceAccount.project_id == project_id)
        )
    )
