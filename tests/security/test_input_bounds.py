"""Documented input limits, enforced over HTTP: XML nesting depth, name lengths, duplicate JSON
keys, and the compression ratio of uploaded archives (docs/security.md, "Input limits")."""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from playdeck.models import Project, Run, User
from playdeck.settings import Settings

DATA = Path(__file__).parents[1] / "data"
PLAYWRIGHT_JSON = DATA / "playwright" / "report.json"
SUBMIT = DATA / "phenx" / "submit.json"


@pytest.fixture
def client(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> TestClient:
    return make_client(make_settings())


def _nothing_stored(db: Session) -> None:
    assert db.scalar(select(func.count()).select_from(Run)) == 0


def test_deeply_nested_junit_xml_is_422(client: TestClient, db: Session) -> None:
    depth = 100_000
    xml = b"<testsuites>" + b"<x>" * depth + b"</x>" * depth + b"</testsuites>"
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "shop"},
        files={"file": ("junit.xml", xml, "application/xml")},
    )
    assert response.status_code == 422, response.text
    assert "nested deeper than 64" in response.json()["detail"]
    _nothing_stored(db)


def test_a_megabyte_test_title_is_422(client: TestClient, db: Session) -> None:
    huge = "t" * (1024 * 1024)
    report = PLAYWRIGHT_JSON.read_bytes().replace(
        b'"title": "adds item"', f'"title": "{huge}"'.encode(), 1
    )
    response = client.post(
        "/api/test-runs/submit",
        params={"projectName": "shop"},
        content=report,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text[:300]
    assert response.json()["code"] == "field_too_long"
    _nothing_stored(db)
    fine = PLAYWRIGHT_JSON.read_bytes().replace(
        b'"title": "adds item"', f'"title": "{"t" * 4096}"'.encode(), 1
    )
    ok = client.post(
        "/api/test-runs/submit",
        params={"projectName": "shop"},
        content=fine,
        headers={"Content-Type": "application/json"},
    )
    assert ok.status_code == 201


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/projects", b'{"name": "shop", "name": "other"}'),
        (
            "/api/admin/users",
            b'{"username": "x", "password": "p", "role": "user", "role": "admin"}',
        ),
        ("/api/auth/login", b'{"username": "a", "password": "b", "username": "c"}'),
    ],
)
def test_duplicate_json_keys_are_422(
    client: TestClient, db: Session, path: str, body: bytes
) -> None:
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "duplicate_json_key"
    assert db.scalar(select(func.count()).select_from(Project)) == 0
    assert db.scalar(select(func.count()).select_from(User)) == 0
    nested = client.post(
        "/api/projects",
        content=b'{"name": "shop", "description": "d", "x": {"a": 1, "a": 2}}',
        headers={"Content-Type": "application/json"},
    )
    assert nested.status_code == 422
    assert nested.json()["code"] == "duplicate_json_key"


def test_the_same_key_in_different_objects_is_fine(client: TestClient) -> None:
    response = client.post(
        "/api/projects",
        content=b'{"name": "shop", "description": "a"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201


def _zip_with_ratio(ratio: int) -> bytes:
    """A Playwright report zip plus one entry of zeros that compresses about ``ratio``:1."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.json", PLAYWRIGHT_JSON.read_bytes())
        archive.writestr("filler.bin", bytes(2 * 1024 * 1024))
    data = bytearray(buffer.getvalue())
    # Set the filler's declared compressed size so its ratio is exactly ``ratio``:1 in the
    # central directory (what the check reads before unpacking anything).
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_length]) == b"filler.bin":
            size = struct.unpack_from("<I", data, at + 24)[0]
            struct.pack_into("<I", data, at + 20, size // ratio)
        at = data.find(b"PK\x01\x02", at + 46)
    return bytes(data)


def test_a_zip_over_the_compression_ratio_is_413(client: TestClient, db: Session) -> None:
    assert zipfile.ZipFile(io.BytesIO(_zip_with_ratio(1100))).getinfo("filler.bin").compress_size
    response = client.post(
        "/api/test-runs/upload",
        data={"projectName": "shop"},
        files={"file": ("report.zip", _zip_with_ratio(1100), "application/zip")},
    )
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "archive_too_large"
    assert "compression ratio over 200:1" in response.json()["detail"]
    _nothing_stored(db)


def test_a_gz_report_over_the_compression_ratio_is_413(client: TestClient, db: Session) -> None:
    body = orjson.loads(SUBMIT.read_bytes())
    test_cases = body.pop("testCases")
    test_run = {k: body[k] for k in ("status", "startTime", "duration")}
    content = bytes(8 * 1024 * 1024)
    raw = b"".join([struct.pack("<I", 10), b"index.html", struct.pack("<I", len(content)), content])
    bomb = gzip.compress(raw, compresslevel=9)
    assert len(raw) / len(bomb) > 200
    response = client.post(
        "/api/test-runs/upload",
        data={
            "projectName": "shop",
            "testRun": orjson.dumps(test_run).decode(),
            "testCases": orjson.dumps(test_cases).decode(),
        },
        files={"report_html": ("html-report.gz", bomb, "application/gzip")},
    )
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "archive_too_large"
    _nothing_stored(db)


def test_limits_are_settings(make_settings: Callable[..., Any]) -> None:
    assert make_settings().max_compression_ratio == 200
    assert make_settings(max_compression_ratio=1000).max_compression_ratio == 1000
