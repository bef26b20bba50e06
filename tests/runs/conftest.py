"""Builders for runs: real ingests through ``playdeck.ingest.service.ingest_run``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from playdeck.audit.service import Actor
from playdeck.auth.principal import Principal
from playdeck.ingest.records import (
    AttachmentRecord,
    AttemptRecord,
    ReportFileRecord,
    ReportRecord,
    RunRecord,
    TestRecord,
)
from playdeck.ingest.service import ingest_run
from playdeck.kit.clock import utcnow
from playdeck.settings import Settings
from playdeck.storage.filesystem import FilesystemBlobStore
from playdeck.users import service as users_service

# Attempt statuses that end in each outcome (the last attempt decides).
ATTEMPTS_FOR = {
    "passed": ["passed"],
    "failed": ["failed", "failed"],
    "flaky": ["failed", "passed"],
    "skipped": ["skipped"],
    "timedout": ["timedout"],
    "interrupted": ["interrupted"],
}

MakeRun = Callable[..., int]


def case(
    title: str,
    outcome: str = "passed",
    *,
    file: str = "tests/app.spec.ts",
    describe: Sequence[str] = (),
    browser: str = "chromium",
    duration_ms: int = 100,
    error: str | None = None,
    attachments: Sequence[AttachmentRecord] = (),
    **fields: Any,
) -> TestRecord:
    """A test record whose attempts agree with ``outcome``; attachments go on the last attempt."""
    statuses = ATTEMPTS_FOR[outcome]
    attempts = [
        AttemptRecord(
            retry=i,
            status=status,
            duration_ms=duration_ms,
            error_message=error if status != "passed" else None,
            stdout=f"attempt {i}\n",
        )
        for i, status in enumerate(statuses)
    ]
    attempts[-1].attachments = list(attachments)
    if error is None and outcome in ("failed", "timedout"):
        error = f"{title} failed"
    return TestRecord(
        file=file,
        title_path=[*describe, title],
        outcome=outcome,
        browser_project=browser,
        expected_status="passed",
        duration_ms=duration_ms,
        error_message=error if outcome not in ("passed", "flaky", "skipped") else None,
        attempts=attempts,
        **fields,
    )


def html_report(*files: tuple[str, bytes], entry: str = "index.html") -> ReportRecord:
    return ReportRecord(
        type="playwright-html",
        label="HTML report",
        entry=entry,
        files=[ReportFileRecord(path=p, body=b) for p, b in files],
    )


@pytest.fixture
def store(settings: Settings) -> FilesystemBlobStore:
    """The blob store the ``client`` app uses (same files directory)."""
    return FilesystemBlobStore(settings.files_dir)


@pytest.fixture
def make_run(engine: Engine, store: FilesystemBlobStore) -> MakeRun:
    """Ingest a run the way the submit endpoint does; returns the run id.

    ``started_at`` may be a datetime or a number of hours ago (default: now).
    """
    now = utcnow()

    def factory(
        tests: Sequence[TestRecord] = (),
        *,
        project: str = "Demo",
        started_at: datetime | float | None = None,
        reports: Sequence[ReportRecord] = (),
        **fields: Any,
    ) -> int:
        if started_at is None:
            at = now
        elif isinstance(started_at, datetime):
            at = started_at
        else:
            at = now - timedelta(hours=started_at)
        record = RunRecord(
            source_format=fields.pop("source_format", "playwright"),
            started_at=at,
            project_name=project,
            tests=list(tests),
            reports=list(reports),
            **fields,
        )
        with Session(engine) as session:
            result = ingest_run(
                session,
                store=store,
                principal=Principal.builtin_admin(),
                record=record,
                auto_create_project=True,
                max_file_bytes=10 * 1024 * 1024,
            )
            session.commit()
        return result.run_id

    return factory


SECRET = "runs-tests-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "amber lighthouse marmalade"


@pytest.fixture
def auth_settings(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def factory(**overrides: Any) -> Settings:
        return make_settings(require_auth=True, secret_key=SECRET, **overrides)

    return factory


@pytest.fixture
def signed_in(
    engine: Engine,
    make_client: Callable[[Settings], TestClient],
    auth_settings: Callable[..., Settings],
) -> Callable[..., TestClient]:
    """A client of an auth-on app, signed in (bearer token) as a new account of ``role``.

    Accounts are made through the users service and signed in through ``/api/auth/login``.
    """

    def factory(username: str, *, role: str = "user", **overrides: Any) -> TestClient:
        settings = auth_settings(**overrides)
        with Session(engine) as session:
            users_service.create_user(
                session,
                settings=settings,
                username=username,
                password=PASSWORD,
                role=role,
                actor=Actor.system("tests"),
                via="tests",
            )
            session.commit()
        client = make_client(settings)
        login = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert login.status_code == 200, login.text
        client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        return client

    return factory


@pytest.fixture
def outsider(signed_in: Callable[..., TestClient]) -> TestClient:
    """Signed in as a plain user who is a member of no project."""
    return signed_in("outsider")
