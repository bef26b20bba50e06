"""pytest-playwright's traces, screenshots and videos reach Playdeck on the right attempt.

Real pytest-playwright in a subprocess (loaded through its entry point, as users get it):

- against Debian's Chromium (``browser`` marker): a small suite against a page this test serves,
  under pytest-xdist and ``--reruns 1``: a passing test, a failing one with trace, screenshot
  and video on both of its attempts, a flaky one whose failed attempt has them. Every stored
  attachment is downloaded and compared byte for byte with the file pytest-playwright wrote.
- the layout of several browsers without launching any (no Firefox or WebKit here):
  pytest-playwright's own parametrization and ``output_path`` folders for three ``--browser``
  options, the files written where its recorder writes them.
- an artifact deleted before the upload is reported, and the run still arrives.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import httpx
import playwright
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from playdeck.models import Attachment, Attempt, Result, Run, Test
from tests.fixtures.servers import LiveServer

pytest_plugins = ["pytester"]

CHROMIUM = Path(os.environ.get("PLAYDECK_CHROMIUM", "/usr/bin/chromium"))
BROWSERS_JSON = Path(playwright.__file__).parent / "driver/package/browsers.json"


def debian_ffmpeg_for_playwright(folder: Path) -> Path:
    """A ``PLAYWRIGHT_BROWSERS_PATH`` whose ffmpeg (what Playwright records videos with) is
    Debian's: ``playwright install ffmpeg`` cannot download its own here."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("recording videos needs ffmpeg (apt-get install ffmpeg)")
    browsers = json.loads(BROWSERS_JSON.read_text())["browsers"]
    revision = next(b["revision"] for b in browsers if b["name"] == "ffmpeg")
    (folder / f"ffmpeg-{revision}").mkdir(parents=True)
    (folder / f"ffmpeg-{revision}" / "ffmpeg-linux").symlink_to(ffmpeg)
    return folder


SHOP = """<!doctype html>
<html><head><title>Shop</title></head>
<body><h1>Cart</h1><button onclick="this.textContent = 'Added'">Add</button></body></html>
"""

CONFTEST = f"""
import pytest

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # Debian's Chromium: `playwright install` cannot download browsers here.
    return {{
        **browser_type_launch_args,
        "executable_path": "{CHROMIUM}",
        "args": ["--no-sandbox", "--disable-gpu", "--no-first-run"],
    }}
"""

SUITE = """
import pathlib
from playwright.sync_api import expect

def test_adds_to_cart(page, base):
    page.goto(base)
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("button")).to_have_text("Added")

def test_checkout(page, base):
    page.goto(base)
    expect(page.get_by_role("heading")).to_have_text("Checkout", timeout=500)

def test_flaky_cart(page, base):
    page.goto(base)
    marker = pathlib.Path("flaky-marker")
    if not marker.exists():
        marker.write_text("1")
        expect(page.get_by_role("heading")).to_have_text("Basket", timeout=500)
"""

BASE_FIXTURE = """
import os
import pytest

@pytest.fixture
def base():
    return os.environ["SHOP_URL"]
"""


def run_inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=300)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stored_attachments(db: Session, run: Run) -> dict[tuple[str, str, int], list[Attachment]]:
    """(browser project, title, retry) -> the attempt's attachments, by name."""
    rows = db.execute(
        select(Test.browser_project, Test.full_title, Attempt.retry, Attachment)
        .select_from(Attachment)
        .join(Attempt, Attempt.id == Attachment.attempt_id)
        .join(Result, Result.id == Attempt.result_id)
        .join(Test, Test.id == Result.test_id)
        .where(Attachment.run_id == run.id)
        .order_by(Attachment.name)
    ).all()
    found: dict[tuple[str, str, int], list[Attachment]] = {}
    for project, title, retry, attachment in rows:
        found.setdefault((project, title, retry), []).append(attachment)
    return found


def download(server: LiveServer, attachment: Attachment) -> bytes:
    response = httpx.get(f"{server.url}/api/attachments/{attachment.id}", timeout=30)
    assert response.status_code == 200, response.text
    return response.content


@pytest.mark.browser
def test_traces_screenshots_and_videos_arrive_on_their_attempt(
    pytester: pytest.Pytester,
    live_server: LiveServer,
    db: Session,
    serve_app: Callable[[Starlette], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"needs Debian's chromium at {CHROMIUM}")
    browsers = debian_ffmpeg_for_playwright(pytester.path / "ms-playwright")
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(browsers))
    shop = serve_app(Starlette(routes=[Route("/", lambda _request: HTMLResponse(SHOP))]))
    monkeypatch.setenv("SHOP_URL", shop)
    pytester.makeconftest(CONFTEST + BASE_FIXTURE)
    pytester.makepyfile(test_shop=SUITE)

    result = run_inner(
        pytester,
        "-n",
        "2",
        "--reruns",
        "1",
        "--browser",
        "chromium",
        "--tracing",
        "retain-on-failure",
        "--screenshot",
        "only-on-failure",
        "--video",
        "retain-on-failure",
        "--output",
        "artifacts",
        f"--playdeck-url={live_server.url}",
        "--playdeck-project=shop",
    )

    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.outlines[-30:]
    run = db.scalars(select(Run)).one()
    assert (run.passed, run.failed, run.flaky) == (1, 1, 1)
    results = db.execute(
        select(Test.browser_project, Test.full_title, Result.outcome)
        .join(Result)
        .where(Result.run_id == run.id)
    ).all()
    # The browser is the test's project, as for a JavaScript Playwright run, not in its title.
    assert sorted(results) == [
        ("chromium", "test_adds_to_cart", "passed"),
        ("chromium", "test_checkout", "failed"),
        ("chromium", "test_flaky_cart", "flaky"),
    ]

    output = pytester.path / "artifacts"
    folders = {
        ("test_checkout", 0): output / "test-shop-py-test-checkout-chromium",
        ("test_checkout", 1): output / "test-shop-py-test-checkout-chromium-retry1",
        ("test_flaky_cart", 0): output / "test-shop-py-test-flaky-cart-chromium",
    }
    stored = stored_attachments(db, run)
    # Only failed attempts kept files (retain-on-failure), and each has its own.
    assert set(stored) == {("chromium", title, retry) for title, retry in folders}
    for (title, retry), folder in folders.items():
        on_disk = sorted(p.name for p in folder.iterdir())
        assert on_disk == ["test-failed-1.png", "trace.zip", "video.webm"], folder
        attachments = stored["chromium", title, retry]
        assert [(a.name, a.content_type) for a in attachments] == [
            ("test-failed-1.png", "image/png"),
            ("trace.zip", "application/zip"),
            ("video.webm", "video/webm"),
        ]
        for attachment in attachments:
            written = folder / attachment.name
            assert attachment.sha256 == sha256(written)
            assert download(live_server, attachment) == written.read_bytes()
    assert not (output / "test-shop-py-test-adds-to-cart-chromium").exists()

    # The Python trace opens in Playdeck's Trace Viewer like a JavaScript one, with its actions.
    [trace] = [a for a in stored["chromium", "test_checkout", 0] if a.name == "trace.zip"]
    actions = trace_actions(live_server, trace.id)
    assert any(a.startswith("Navigate") for a in actions), actions
    assert any(a.startswith('Expect "to_have_text"') for a in actions), actions


def trace_actions(server: LiveServer, trace_id: int) -> set[str]:
    """The action titles Playwright's Trace Viewer, served by ``server``, lists for a trace."""
    from playwright.sync_api import sync_playwright

    port = server.url.rsplit(":", 1)[1]
    server.settings.public_url = server.url
    server.settings.content_url = f"http://localhost:{port}"  # another origin, a secure one
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{server.url}/traces/{trace_id}")
            page.locator("#trace-open").click()
            page.locator(".action-title").first.wait_for(timeout=30_000)
            return {" ".join(t.split()) for t in page.locator(".action-title").all_inner_texts()}
        finally:
            browser.close()


LAYOUT_SUITE = """
import pathlib
import pytest

# Each test writes what pytest-playwright's recorder writes, where it writes it: the folder is
# pytest-playwright's own output_path, for the browser pytest-playwright parametrized.
def keep(output_path, *names):
    folder = pathlib.Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(f"{folder.name}/{name}".encode())

def test_cart(browser_name, output_path):
    keep(output_path, "trace.zip", "test-finished-1.png")

@pytest.mark.parametrize("currency", ["eur", "usd"])
def test_total(browser_name, output_path, currency):
    keep(output_path, "trace-1.zip", "trace-2.zip", "video-1.webm", "video-2.webm")
    assert currency == "eur" or browser_name != "webkit", "webkit rounds usd"

def test_no_browser():
    pass
"""


def test_several_browsers_are_projects_with_their_own_artifacts(
    pytester: pytest.Pytester, live_server: LiveServer, db: Session
) -> None:
    pytester.makepyfile(test_layout=LAYOUT_SUITE)

    result = run_inner(
        pytester,
        *("--browser", "chromium", "--browser", "firefox", "--browser", "webkit"),
        "--output",
        "out",
        f"--playdeck-url={live_server.url}",
        "--playdeck-project=layout",
    )

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    run = db.scalars(select(Run)).one()
    assert run.total == 10  # 3 browsers x 3 tests, and the test without a browser
    assert run.failed == 1
    stored = stored_attachments(db, run)
    for browser in ("chromium", "firefox", "webkit"):
        cart = stored[browser, "test_cart", 0]
        assert [(a.name, a.content_type) for a in cart] == [
            ("test-finished-1.png", "image/png"),
            ("trace.zip", "application/zip"),
        ]
        for currency in ("eur", "usd"):
            total = stored[browser, f"test_total[{currency}]", 0]
            assert [a.name for a in total] == [
                "trace-1.zip",
                "trace-2.zip",
                "video-1.webm",
                "video-2.webm",
            ]
            # The bytes say which folder each file came from: the right test and browser.
            for attachment in total:
                body = download(live_server, attachment).decode()
                folder, name = body.split("/")
                assert name == attachment.name
                assert folder.endswith(f"{browser}-{currency}") or folder.endswith(
                    f"{currency}-{browser}"
                )
    assert ("", "test_no_browser", 0) not in stored
    outcomes = dict(
        db.execute(
            select(Test.browser_project + "/" + Test.full_title, Result.outcome)
            .join(Result)
            .where(Result.run_id == run.id, Test.full_title.startswith("test_total"))
        ).all()
    )
    assert outcomes["webkit/test_total[usd]"] == "failed"
    assert outcomes["chromium/test_total[usd]"] == "passed"


VANISHING_SUITE = """
import pathlib

def test_cart(browser_name, output_path):
    folder = pathlib.Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trace.zip").write_bytes(b"kept")
    (folder / "video.webm").write_bytes(b"deleted before the upload")
"""

# A cleanup that runs before Playdeck's upload (which is trylast).
VANISHING_CONFTEST = """
import pathlib

def pytest_sessionfinish(session):
    for video in pathlib.Path("out").rglob("video.webm"):
        video.unlink()
"""


def test_an_artifact_gone_before_the_upload_is_reported_not_fatal(
    pytester: pytest.Pytester, live_server: LiveServer, db: Session
) -> None:
    pytester.makeconftest(VANISHING_CONFTEST)
    pytester.makepyfile(test_vanishing=VANISHING_SUITE)

    result = run_inner(pytester, "--output", "out", f"--playdeck-url={live_server.url}")

    assert result.ret == pytest.ExitCode.OK
    run = db.scalars(select(Run)).one()
    [line] = [line for line in result.outlines if "playdeck:" in line]
    assert line.startswith(f"playdeck: results sent: {live_server.url}/runs/{run.id} ")
    assert "1 artifact(s) gone before the upload: " in line
    assert line.rstrip(")").endswith("video.webm")
    [attachment] = stored_attachments(db, run)["chromium", "test_cart", 0]
    assert (attachment.name, download(live_server, attachment)) == ("trace.zip", b"kept")
    [missing] = run.meta["config"]["pytest"]["missingArtifacts"]
    assert missing.endswith("video.webm")


BIG_VIDEO_SUITE = """
import os
import pathlib

def test_cart(browser_name, output_path):
    folder = pathlib.Path(output_path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "video.webm").write_bytes(os.urandom(3 * 1024 * 1024))
"""


def test_artifacts_over_the_servers_limit_leave_the_run_without_them(
    pytester: pytest.Pytester, make_live_server: Callable[..., LiveServer], db: Session
) -> None:
    server = make_live_server(max_upload_mb=1)
    pytester.makepyfile(test_big=BIG_VIDEO_SUITE)

    result = run_inner(pytester, "--output", "out", f"--playdeck-url={server.url}")

    assert result.ret == pytest.ExitCode.OK
    lines = [line for line in result.outlines if "playdeck:" in line]
    run = db.scalars(select(Run)).one()
    assert lines == [
        "playdeck: with its 1 artifact(s) the upload is over the server's size limit "
        "(HTTP 413): sending the run without them",
        f"playdeck: results sent: {server.url}/runs/{run.id}",
    ]
    assert (run.total, run.passed) == (1, 1)
    assert stored_attachments(db, run) == {}
