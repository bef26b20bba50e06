"""Inputs that used to end in a 500 with a traceback: text the database cannot store (NUL,
lone surrogates) anywhere, a superscript digit as a project id, out-of-range audit filters, and
a zip whose entry is longer than it declares. Each is a 4xx problem detail, nothing is stored,
and nothing is logged as an unhandled error."""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playdeck.models import Attachment, Project, Run, Test, User
from playdeck.settings import Settings

SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "violet tangerine hovercraft"
DATA = Path(__file__).parents[1] / "data"
PLAYWRIGHT_JSON = DATA / "playwright" / "report.json"
PLAYWRIGHT_ZIP = DATA / "playwright" / "report.zip"


@pytest.fixture(autouse=True)
def no_unhandled_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.ERROR, logger="playdeck")
    yield
    unhandled = [r.getMessage() for r in caplog.records if r.name == "playdeck.errors"]
    assert unhandled == []


@pytest.fixture
def open_client(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> TestClient:
    return make_client(make_settings())


@pytest.fixture
def auth_client(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> TestClient:
    return make_client(make_settings(require_auth=True, secret_key=SECRET))


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("bad", ["\\u0000", "\\ud800"], ids=["nul", "surrogate"])
def test_unstorable_text_in_an_unauthenticated_login_is_422(
    auth_client: TestClient, bad: str
) -> None:
    raw = f'{{"username": "al{bad}ice", "password": "{PASSWORD}"}}'
    response = auth_client.post(
        "/api/auth/login", content=raw, headers={"Content-Type": "application/json"}
    )
    assert _problem(response, 422)["code"] in ("unstorable_text", "invalid_input")


@pytest.mark.parametrize("bad", ["\\u0000", "\\ud800"], ids=["nul", "surrogate"])
def test_unstorable_text_in_names_is_422_and_stores_nothing(
    open_client: TestClient, db: Session, bad: str
) -> None:
    created = open_client.post(
        "/api/projects",
        content=f'{{"name": "shop{bad}"}}',
        headers={"Content-Type": "application/json"},
    )
    assert _problem(created, 422)["code"] in ("unstorable_text", "invalid_input")
    submitted = open_client.post(
        "/api/test-runs/submit",
        params={"projectName": "shop"},
        content=PLAYWRIGHT_JSON.read_bytes().replace(
            b'"title": "adds item"', f'"title": "adds{bad} item"'.encode(), 1
        ),
        headers={"Content-Type": "application/json"},
    )
    # A report's titles are cleaned (NUL dropped) or the report is refused: never a 500.
    assert submitted.status_code in (201, 400, 422), submitted.text
    titles = db.scalars(select(Test.title)).all()
    assert not [t for t in titles if "\x00" in t]
    if submitted.status_code != 201:
        assert db.scalar(select(func.count()).select_from(Run)) == 0


def test_a_nul_in_an_attachment_name_is_422(open_client: TestClient, db: Session) -> None:
    report = orjson.loads(PLAYWRIGHT_JSON.read_bytes())
    changed = 0

    def rename(node: Any) -> None:
        nonlocal changed
        if isinstance(node, dict):
            for attachment in node.get("attachments", []) if "attachments" in node else []:
                if isinstance(attachment, dict) and "name" in attachment:
                    attachment["name"] = "shot\x00.png"
                    changed += 1
            for value in node.values():
                rename(value)
        elif isinstance(node, list):
            for value in node:
                rename(value)

    rename(report)
    assert changed
    response = open_client.post(
        "/api/test-runs/submit",
        params={"projectName": "shop"},
        content=orjson.dumps(report),
        headers={"Content-Type": "application/json"},
    )
    assert _problem(response, 422)["code"] == "unstorable_text"
    assert db.scalar(select(func.count()).select_from(Attachment)) == 0
    assert db.scalar(select(func.count()).select_from(Run)) == 0


def test_a_superscript_digit_is_not_a_project_id(open_client: TestClient) -> None:
    for ref in ("¹", "٣", str(2**63), "9" * 30):
        response = open_client.get(f"/api/projects/{ref}")
        assert _problem(response, 404)["code"] == "not_found", ref


def test_out_of_range_audit_filters_are_422(open_client: TestClient) -> None:
    for params in (
        {"actor_id": str(2**63)},
        {"user_id": str(2**64)},
        {"since": "0001-01-01T00:00:00+14:00"},
        {"until": "9999-12-31T23:59:59-14:00"},
    ):
        response = open_client.get("/api/admin/audit", params=params)
        _problem(response, 422)
    runs = open_client.get("/api/test-runs", params={"since": "0001-01-01T00:00:00+14:00"})
    _problem(runs, 422)


def _shrink_declared_size(archive: bytes, suffix: str, size: int) -> bytes:
    """Rewrite the central directory so the first entry ending in ``suffix`` declares ``size``
    bytes (fewer than its data holds)."""
    data = bytearray(archive)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        name = bytes(data[at + 46 : at + 46 + name_length]).decode()
        if name.endswith(suffix):
            struct.pack_into("<I", data, at + 24, size)
            return bytes(data)
        at = data.find(b"PK\x01\x02", at + 46)
    raise AssertionError(f"no entry ending in {suffix}")


def test_a_zip_entry_longer_than_declared_is_400(
    open_client: TestClient, db: Session, settings: Settings
) -> None:
    archive = _shrink_declared_size(PLAYWRIGHT_ZIP.read_bytes(), "test-failed-1.png", 100)
    response = open_client.post(
        "/api/test-runs/upload",
        data={"projectName": "shop"},
        files={"file": ("report.zip", archive, "application/zip")},
    )
    assert _problem(response, 400)["code"] == "invalid_archive"
    assert db.scalar(select(func.count()).select_from(Run)) == 0
    files = settings.files_dir
    assert not files.exists() or not [p for p in files.rglob("*") if p.is_file()]


def test_a_user_with_unstorable_text_is_422(
    auth_client: TestClient, make_account: Callable[..., User]
) -> None:
    make_account("root", role="admin", password=PASSWORD)
    login = auth_client.post("/api/auth/login", json={"username": "root", "password": PASSWORD})
    token = login.json()["access_token"]
    auth_client.cookies.clear()
    response = auth_client.post(
        "/api/admin/users",
        content=f'{{"username": "bob", "password": "{PASSWORD}", "name": "Bob\\u0000"}}',
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text


def test_a_nul_in_a_project_name_query_is_422(open_client: TestClient, db: Session) -> None:
    response = open_client.post(
        "/api/test-runs/submit",
        params={"projectName": "shop\x00"},
        content=PLAYWRIGHT_JSON.read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    _problem(response, 422)
    assert db.scalar(select(func.count()).select_from(Project)) == 0
    lookup = open_client.get("/api/projects/sh%00op")
    assert lookup.status_code in (404, 422)
