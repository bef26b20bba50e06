"""The trace page (``/traces/{id}``) and the viewer's files on the content host, over HTTP."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.ingest.records import AttachmentRecord
from playdeck.models import Attachment
from playdeck.settings import Settings
from playdeck.traces.viewer import find_viewer

from .conftest import HTML, MakeRun, case

PUBLIC = "http://127.0.0.1:8001"
CONTENT = "http://localhost:8001"
VIEWER = find_viewer(None)


def _trace_zip(playwright_version: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "0-trace.trace",
            orjson.dumps(
                {"version": 99, "type": "context-options", "playwrightVersion": playwright_version}
            ),
        )
    return buffer.getvalue()


def _trace(make_run: MakeRun, db: Session, version: str = "1.40.0", name: str = "trace") -> int:
    attachment = AttachmentRecord(
        name=name, content_type="application/zip", body=_trace_zip(version)
    )
    run_id = make_run([case("logs in", "failed", attachments=[attachment])])
    return db.scalars(select(Attachment.id).where(Attachment.run_id == run_id)).one()


def _client(
    make_client: Callable[..., TestClient], settings: Settings, **values: object
) -> TestClient:
    for key, value in values.items():
        setattr(settings, key, value)
    return make_client(settings)


def test_the_page_links_to_the_viewer_on_the_content_origin(
    make_client: Callable[..., TestClient], settings: Settings, make_run: MakeRun, db: Session
) -> None:
    assert VIEWER is not None
    trace_id = _trace(make_run, db)
    client = _client(make_client, settings, public_url=PUBLIC, content_url=CONTENT)
    page = client.get(f"/traces/{trace_id}", headers=HTML)
    assert page.status_code == 200
    (link,) = re.findall(r'id="trace-open" href="([^"]+)"', page.text)
    link = link.replace("&amp;", "&")
    assert link.startswith(f"{CONTENT}/trace-viewer/{VIEWER.version}/index.html?trace=")
    assert f"usercontent%2Fattachment.{trace_id}." in link
    assert "recorded by Playwright 1.40.0" in page.text
    assert "trace-newer" not in page.text

    path = link.removeprefix(CONTENT).split("?")[0]
    on_content = client.get(path, headers={"host": "localhost:8001"})
    assert on_content.status_code == 200
    assert "frame-ancestors 'self'" in on_content.headers["content-security-policy"]
    worker = client.get(
        path.replace("index.html", "sw.bundle.js"), headers={"host": "localhost:8001"}
    )
    assert worker.headers["content-type"].startswith("text/javascript")
    # Never on Playdeck's own host, never another version, never outside the viewer's folder.
    assert client.get(path).status_code == 404
    other = path.replace(VIEWER.version, "0.0.1")
    assert client.get(other, headers={"host": "localhost:8001"}).status_code == 404
    for bad in ("../../../package.json", "..%2F..%2F..%2Fpackage.json"):
        sneaky = path.replace("index.html", bad)
        assert client.get(sneaky, headers={"host": "localhost:8001"}).status_code == 404


def test_a_trace_newer_than_the_viewer_is_announced(
    make_client: Callable[..., TestClient], settings: Settings, make_run: MakeRun, db: Session
) -> None:
    trace_id = _trace(make_run, db, version="99.1.0")
    client = _client(make_client, settings, public_url=PUBLIC, content_url=CONTENT)
    page = client.get(f"/traces/{trace_id}", headers=HTML)
    assert 'id="trace-newer"' in page.text
    assert "recorded by Playwright 99.1.0, newer than this server" in page.text


def test_without_a_viewer_the_page_says_how_to_install_one(
    make_client: Callable[..., TestClient],
    settings: Settings,
    make_run: MakeRun,
    db: Session,
    tmp_path: Path,
) -> None:
    trace_id = _trace(make_run, db)
    client = _client(
        make_client, settings, public_url=PUBLIC, content_url=CONTENT, trace_viewer_dir=tmp_path
    )
    page = client.get(f"/traces/{trace_id}", headers=HTML)
    assert page.status_code == 200
    assert 'data-state="no_viewer"' in page.text
    assert "playdeck[traces]" in page.text
    assert 'id="trace-open"' not in page.text


def test_a_plain_http_content_origin_elsewhere_is_no_secure_context(
    make_client: Callable[..., TestClient], settings: Settings, make_run: MakeRun, db: Session
) -> None:
    trace_id = _trace(make_run, db)
    client = _client(
        make_client,
        settings,
        public_url="https://playdeck.example",
        content_url="http://content.example",
    )
    page = client.get(f"/traces/{trace_id}", headers=HTML)
    assert 'data-state="insecure"' in page.text


def test_only_traces_open_in_the_viewer(client: TestClient, make_run: MakeRun, db: Session) -> None:
    shot = AttachmentRecord(name="screenshot", content_type="image/png", body=b"png")
    run_id = make_run([case("logs in", "failed", attachments=[shot])])
    shot_id = db.scalars(select(Attachment.id).where(Attachment.run_id == run_id)).one()
    response = client.get(f"/traces/{shot_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_a_trace"
    assert client.get("/traces/987654").status_code == 404
    run_page = client.get(f"/runs/{run_id}", headers=HTML).text
    assert "/traces/" not in run_page


def test_the_run_page_links_each_trace_to_the_viewer(
    client: TestClient, make_run: MakeRun, db: Session
) -> None:
    trace_id = _trace(make_run, db)
    run_id = db.scalars(select(Attachment.run_id).where(Attachment.id == trace_id)).one()
    run_page = client.get(f"/runs/{run_id}", headers=HTML).text
    assert f'href="/traces/{trace_id}"' in run_page
