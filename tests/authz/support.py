"""The world the authorization tests probe: one account per persona, project Alpha (with a run,
a test, an attachment and an HTML report) where the personas hold their project roles, and
project Beta that none of them belongs to.

Accounts are rows (``tests.fixtures.accounts.insert_user``: no audit events to wade through),
hashed with the suite's cheap argon2id parameters; runs are real ingests; sign-in goes through
``/api/auth/login``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from playdeck.ingest.records import (
    AttachmentRecord,
    AttemptRecord,
    ReportFileRecord,
    ReportRecord,
    RunRecord,
    TestRecord,
)
from playdeck.kit.clock import utcnow
from playdeck.models import Attachment, AuditEvent, Base, ProjectMember, Report, Result, User
from playdeck.outcomes import AttemptStatus, Outcome
from playdeck.storage.filesystem import FilesystemBlobStore
from tests.fixtures.accounts import insert_user
from tests.fixtures.runs import store_run

SECRET = "authz-tests-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "violet tangerine hovercraft"
NEW_PASSWORD = "marzipan lantern velocity"

ANONYMOUS = "anonymous"
REPORTER = "reporter"
OUTSIDER = "outsider"  # a global user, member of no project
VIEWER = "viewer"
MEMBER = "member"
PROJECT_ADMIN = "project_admin"
OWNER = "owner"
ADMIN = "admin"  # the global administrator
PERSONAS = (ANONYMOUS, REPORTER, OUTSIDER, VIEWER, MEMBER, PROJECT_ADMIN, OWNER, ADMIN)

GLOBAL_ROLES = {REPORTER: "reporter", ADMIN: "admin"}  # everyone else is a global "user"
ALPHA_ROLES = {VIEWER: "viewer", MEMBER: "member", PROJECT_ADMIN: "admin", OWNER: "owner"}
# Not a persona: a user with no membership, for "add a member" requests.
NEWCOMER = "carol"


@dataclass
class ProjectIds:
    id: int
    run_id: int
    test_id: int
    attachment_id: int
    report_id: int
    trace_id: int


@dataclass
class World:
    users: dict[str, int] = field(default_factory=dict)
    alpha: ProjectIds | None = None
    beta: ProjectIds | None = None

    @property
    def a(self) -> ProjectIds:
        assert self.alpha is not None
        return self.alpha

    @property
    def b(self) -> ProjectIds:
        assert self.beta is not None
        return self.beta


def add_user(session: Session, username: str, role: str = "user") -> User:
    return insert_user(session, username, role=role, password=PASSWORD)


def _ingest(engine: Engine, store: FilesystemBlobStore, project: str) -> ProjectIds:
    tag = project.lower().encode()
    test = TestRecord(
        file="tests/app.spec.ts",
        title_path=[f"{project} works"],
        outcome=Outcome.FAILED,
        browser_project="chromium",
        expected_status=AttemptStatus.PASSED,
        duration_ms=10,
        error_message="boom",
        attempts=[
            AttemptRecord(
                retry=0,
                status=AttemptStatus.FAILED,
                attachments=[
                    AttachmentRecord(
                        name="screenshot", content_type="image/png", body=b"png-" + tag
                    ),
                    AttachmentRecord(
                        name="trace", content_type="application/zip", body=b"zip-" + tag
                    ),
                ],
            )
        ],
    )
    report = ReportRecord(
        type="playwright-html",
        label="HTML report",
        entry="index.html",
        files=[ReportFileRecord(path="index.html", body=b"<html>" + tag + b"</html>")],
    )
    record = RunRecord(
        source_format="playwright",
        started_at=utcnow(),
        project_name=project,
        tests=[test],
        reports=[report],
    )
    run_id = store_run(engine, store, record, max_file_bytes=1024 * 1024)
    with Session(engine) as session:
        return _ids(session, run_id)


def _ids(session: Session, run_id: int) -> ProjectIds:
    project_id, test_id = session.execute(
        select(Result.project_id, Result.test_id).where(Result.run_id == run_id)
    ).one()
    attachment_id, trace_id = session.scalars(
        select(Attachment.id).where(Attachment.run_id == run_id).order_by(Attachment.name)
    ).all()
    report_id = session.scalars(select(Report.id).where(Report.run_id == run_id)).one()
    return ProjectIds(
        id=project_id,
        run_id=run_id,
        test_id=test_id,
        attachment_id=attachment_id,
        report_id=report_id,
        trace_id=trace_id,
    )


def build_world(engine: Engine, files_dir: Path) -> World:
    store = FilesystemBlobStore(files_dir)
    world = World()
    world.alpha = _ingest(engine, store, "Alpha")
    world.beta = _ingest(engine, store, "Beta")
    with Session(engine) as session:
        for persona in PERSONAS[1:]:
            world.users[persona] = add_user(session, persona, GLOBAL_ROLES.get(persona, "user")).id
        world.users[NEWCOMER] = add_user(session, NEWCOMER).id
        for persona, role in ALPHA_ROLES.items():
            session.add(
                ProjectMember(project_id=world.a.id, user_id=world.users[persona], role=role)
            )
        session.commit()
    return world


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the API; returns the access token (the cookie is dropped: every
    request of these tests carries its credential explicitly)."""
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return str(response.json()["access_token"])


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def snapshot(engine: Engine, files_dir: Path) -> dict[str, Any]:
    """Every row of every table, and every stored file: what a denied request must not change."""
    state: dict[str, Any] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            state[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    state["files"] = sorted(
        str(p.relative_to(files_dir))
        for p in files_dir.rglob("*")
        if p.is_file() and "tmp" not in p.parts
    )
    return state


def as_(client: TestClient, persona: str) -> dict[str, str]:
    """Headers that make a request as ``persona`` (signed in now, through the API)."""
    return {} if persona == ANONYMOUS else bearer(login(client, persona))


def fresh(session: Session) -> Session:
    """End the test session's read transaction: the next query sees what the app committed."""
    session.rollback()
    return session


def events(session: Session, action: str) -> list[AuditEvent]:
    fresh(session)
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def role_in(session: Session, project_id: int, user_id: int) -> str | None:
    fresh(session)
    return session.scalar(
        select(ProjectMember.role).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id == user_id
        )
    )
