from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from playdeck.kit.pagination import MAX_ID
from playdeck.models import Project


def get_by_ref(session: Session, ref: str) -> Project | None:
    """A project by numeric id or by slug. Only ASCII digits are an id: ``str.isdigit`` also
    accepts "¹" or "٣", which ``int`` refuses or reads differently."""
    if ref.isascii() and ref.isdigit():
        number = int(ref)
        return session.get(Project, number) if 1 <= number <= MAX_ID else None
    return session.scalars(select(Project).where(Project.slug == ref.lower())).first()


def get_by_name(session: Session, name: str) -> Project | None:
    return session.scalars(select(Project).where(Project.name == name)).first()


def slug_taken(session: Session, slug: str) -> bool:
    return session.scalar(select(Project.id).where(Project.slug == slug)) is not None


def list_page(
    session: Session,
    *,
    visible: ColumnElement[bool] | None,
    q: str | None,
    after: tuple[str, int] | None,
    limit: int,
) -> list[Project]:
    query = select(Project)
    if visible is not None:
        query = query.where(visible)
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Project.name.ilike(f"%{escaped}%", escape="\\"))
    if after is not None:
        name, project_id = after
        query = query.where(
            (Project.name > name) | ((Project.name == name) & (Project.id > project_id))
        )
    return list(session.scalars(query.order_by(Project.name, Project.id).limit(limit + 1)))
