"""Queries of single sign-on: provider identities and the memberships claim rules manage."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playdeck.kit import sql
from playdeck.models import Project, ProjectMember, User, UserIdentity, UserSession
from playdeck.users import repository as users


def identity(session: Session, *, provider: str, subject: str) -> tuple[UserIdentity, User] | None:
    return users.first_with_owner(
        session,
        UserIdentity,
        UserIdentity.user_id,
        UserIdentity.provider == provider,
        UserIdentity.subject == subject,
    )


def add_identity(session: Session, identity: UserIdentity) -> UserIdentity:
    return sql.add(session, identity)


def memberships(session: Session, user_id: int) -> list[ProjectMember]:
    return list(session.scalars(select(ProjectMember).where(ProjectMember.user_id == user_id)))


def projects_named(session: Session, names: set[str]) -> dict[str, Project]:
    if not names:
        return {}
    found = session.scalars(select(Project).where(Project.name.in_(names)))
    return {project.name: project for project in found}


def session_provider(session: Session, session_id: int) -> str | None:
    return session.scalar(select(UserSession.sso_provider).where(UserSession.id == session_id))


def identities_per_provider(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(UserIdentity.provider, func.count()).group_by(UserIdentity.provider)
    )
    return {provider: int(count) for provider, count in rows}
