"""``PLAYDECK_CONTENT_URL``: uploaded HTML is served from another host, by capability URL only."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Report
from playdeck.runs.files import content_origin
from playdeck.settings import Settings

SUBMIT = Path(__file__).parents[1] / "data" / "phenx" / "submit.json"
MAIN = "http://playdeck.example"
CONTENT = "http://usercontent.example"


@pytest.fixture
def client(
    make_client: Callable[[Settings], TestClient], make_settings: Callable[..., Settings]
) -> TestClient:
    client = make_client(make_settings(public_url=MAIN, content_url=CONTENT))
    client.base_url = client.base_url.copy_with(host="playdeck.example")
    return client


def _report(client: TestClient, db: Session) -> int:
    body = orjson.loads(SUBMIT.read_bytes())
    test_cases = body.pop("testCases")
    test_run = {k: body[k] for k in ("status", "startTime", "duration")}
    response = client.post(
        "/api/test-runs/upload",
        data={
            "projectName": "web",
            "testRun": orjson.dumps(test_run).decode(),
            "testCases": orjson.dumps(test_cases).decode(),
        },
        files={"report_html": ("index.html", b"<h1>report</h1>", "text/html")},
    )
    assert response.status_code == 201, response.text
    return db.scalars(select(Report.id)).one()


def test_report_html_moves_to_the_content_host(client: TestClient, db: Session) -> None:
    report_id = _report(client, db)
    moved = client.get(f"/api/reports/{report_id}/index.html", follow_redirects=False)
    assert moved.status_code == 307
    location = moved.headers["location"]
    assert location.startswith(f"{CONTENT}/usercontent/report.{report_id}.")
    path = location.removeprefix(CONTENT)

    served = client.get(path, headers={"Host": "usercontent.example"})
    assert served.status_code == 200
    assert served.text == "<h1>report</h1>"
    csp = served.headers["content-security-policy"]
    assert f"connect-src {location.removesuffix('index.html')};" in csp
    assert f"frame-ancestors {MAIN}" in csp
    assert "form-action 'none'" in csp

    # Never on Playdeck's own host, never with a forged or stale token.
    assert client.get(path).status_code == 404
    token = path.split("/")[2]
    forged = token.replace(f"report.{report_id}.", f"report.{report_id + 1}.")
    assert (
        client.get(path.replace(token, forged), headers={"Host": "usercontent.example"}).status_code
        == 404
    )
    settings = client.app.state.settings  # type: ignore[attr-defined]
    stale = content_origin.sign(settings, "report", report_id, now=time.time() - 2 * 3600)
    assert (
        client.get(path.replace(token, stale), headers={"Host": "usercontent.example"}).status_code
        == 404
    )


def test_the_viewer_frames_the_content_host(client: TestClient, db: Session) -> None:
    report_id = _report(client, db)
    page = client.get(f"/reports/{report_id}/index.html", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert f'src="{CONTENT}/usercontent/report.{report_id}.' in page.text
    assert page.headers["content-security-policy"].endswith(f"frame-src {CONTENT}")
    assert page.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"content_url": CONTENT}, "needs PLAYDECK_PUBLIC_URL"),
        ({"content_url": MAIN, "public_url": MAIN + "/"}, "another host"),
        ({"content_url": "usercontent.example", "public_url": MAIN}, r"http\(s\) URL"),
    ],
)
def test_content_url_settings_are_checked(
    make_settings: Callable[..., Settings], values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        make_settings(**values)
