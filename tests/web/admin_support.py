"""Helpers for the administration page tests: projects and memberships made through the real
services, browsers signed in through the pages, and forms posted the way a page posts them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from playdeck.auth.principal import Principal
from playdeck.authz.permissions import ProjectRole
from playdeck.members import service as members_service
from playdeck.members.schemas import MemberCreate
from playdeck.models import AuditEvent, Project, User
from playdeck.projects import service as projects_service
from playdeck.projects.schemas import ProjectCreate
from playdeck.settings import Settings

from .conftest import HTML, parse
from .identity_support import PASSWORD, sign_in

MakeClient = Callable[[Settings], TestClient]


class Browser:
    """A signed-in browser: its client (cookie jar) and the session's CSRF token."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self.client.get(
            url, headers=HTML, follow_redirects=False, **kwargs
        )
        return response

    def post(self, url: str, *, token: bool = True, **data: Any) -> httpx.Response:
        """Post a page form (with the session's CSRF token unless ``token=False``)."""
        if token:
            data["csrf_token"] = self.token
        response: httpx.Response = self.client.post(
            url, data=data, headers=HTML, follow_redirects=False
        )
        return response


def browser_for(make_client: MakeClient, settings: Settings, login: str) -> Browser:
    client = make_client(settings)
    return Browser(client, sign_in(client, login, PASSWORD))


def make_project(engine: Engine, name: str, **members: ProjectRole) -> Project:
    """A project, and its members as ``username=role`` (the users must exist)."""
    with Session(engine, expire_on_commit=False) as session:
        project = projects_service.create_project(session, data=ProjectCreate(name=name))
        for username, role in members.items():
            members_service.add_member(
                session,
                project=project,
                principal=Principal.builtin_admin(),
                data=MemberCreate(username=username, role=role),
            )
        session.commit()
        return project


def fresh(db: Session) -> Session:
    db.rollback()  # a fresh snapshot: SQLite keeps a reading transaction's view
    db.expire_all()
    return db


def user_named(db: Session, username: str) -> User | None:
    return fresh(db).scalars(select(User).where(User.username == username)).first()


def events(db: Session, action: str) -> list[AuditEvent]:
    return list(fresh(db).scalars(select(AuditEvent).where(AuditEvent.action == action)))


def count(db: Session, model: type[Any]) -> int:
    return fresh(db).scalar(select(func.count()).select_from(model)) or 0


ERROR_NOTICE = re.compile(r'<p class="notice notice--error[^"]*"[^>]*>(.*?)</p>', re.DOTALL)


def alert(html: str) -> str:
    """The text of the page's error notices."""
    found = ERROR_NOTICE.findall(html)
    assert found, parse(html).text[:500]
    return " ".join(parse(text).text.strip() for text in found)


def listed(html: str) -> list[str]:
    """The usernames of the rows of the page's table, in order (``data-username``)."""
    return [e.attrs["data-username"] for e in parse(html).all("tr") if "data-username" in e.attrs]


def notices(html: str) -> str:
    """The text of the flash/notice area at the top of the page."""
    if 'class="notices"' not in html:
        return ""
    return parse(html.split('class="notices"', 1)[1].split("</div>", 1)[0]).text
