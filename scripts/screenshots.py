"""Regenerate docs/screenshots/*.png: a server with `playdeck demo` data, photographed by Chromium.

    python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]
                                  [--only login,account,users,members,account-keys]

Runs `playdeck demo` into a temporary data directory, starts `playdeck serve` on a free port,
and saves one PNG per main page (desktop width, plus the run page at phone width). The sign-in
and account pages come from a second server with authentication on (an administrator from
`PLAYDECK_ADMIN_*`, signed in through the form); the administration pages (users, a project's
members, the account's API keys) from a third, with demo data and a few people, memberships and
keys made through the API. `--only` regenerates just the named shots.
Needs the `playwright` Python package and a Chromium binary (Debian's `chromium` by default).
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
REPORT_ZIP = ROOT / "tests" / "data" / "playwright" / "report.zip"
PLAYDECK = Path(sys.executable).parent / "playdeck"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
MAX_HEIGHT = 1400
MAX_BYTES = 300 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# The administrator of the authentication-on server (a throwaway instance).
ADMIN_USERNAME = "ada"
ADMIN_PASSWORD = secrets.token_urlsafe(24)
# User agents of the other signed-in devices the account page lists.
OTHER_DEVICES = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "python-httpx/0.28.1",
)
DESKTOP_SHOTS = (
    "overview",
    "project",
    "run",
    "test-history",
    "tests",
    "flaky",
    "failures",
    "triage",
    "projects",
)
PHONE_SHOTS = ("run-phone", "overview-phone")
IDENTITY_SHOTS = ("login", "account")
ADMIN_SHOTS = ("users", "members", "account-keys")
# The people of the administration shots: username, role, display name, email, active.
PEOPLE = (
    ("grace", "user", "Grace Hopper", "grace@example.com", True),
    ("linus", "user", "Linus Pauling", "linus@example.com", True),
    ("margaret", "admin", "Margaret Hamilton", "margaret@example.com", True),
    ("katherine", "user", "Katherine Johnson", "katherine@example.com", True),
    ("ci-storefront", "reporter", "GitHub Actions (storefront)", None, True),
    ("old-runner", "reporter", "Jenkins (retired)", None, False),
)
MEMBERS = (("grace", "owner"), ("linus", "member"), ("katherine", "viewer"))


def auth_env() -> dict[str, str]:
    return {
        "PLAYDECK_REQUIRE_AUTH": "true",
        "PLAYDECK_SECRET_KEY": secrets.token_hex(32),
        "PLAYDECK_ADMIN_USERNAME": ADMIN_USERNAME,
        "PLAYDECK_ADMIN_EMAIL": "ada@example.com",
        "PLAYDECK_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }


@contextmanager
def demo_server(
    data_dir: Path,
    extra_env: dict[str, str] | None = None,
    *,
    demo: bool = True,
    port: int | None = None,
) -> Iterator[str]:
    env = {
        **os.environ,
        "PLAYDECK_DATA_DIR": str(data_dir),
        "PLAYDECK_LOG_LEVEL": "warning",
        **(extra_env or {}),
    }
    if demo:
        # Our own venv's `playdeck` executable, with fixed arguments.
        subprocess.run([str(PLAYDECK), "demo"], env=env, check=True)  # noqa: S603
    port = port or free_port()
    server = subprocess.Popen(  # noqa: S603
        [str(PLAYDECK), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(10)


def shoot(page: Page, url: str, path: Path) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    height = min(MAX_HEIGHT, page.evaluate("document.documentElement.scrollHeight"))
    width = page.viewport_size["width"] if page.viewport_size else DESKTOP["width"]
    page.screenshot(
        path=str(path), clip={"x": 0, "y": 0, "width": width, "height": height}, full_page=True
    )
    size = path.stat().st_size
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {size // 1024} KiB")
    if size > MAX_BYTES:
        print(f"  warning: larger than {MAX_BYTES // 1024} KiB", file=sys.stderr)


def shoot_results(browser: Browser, url: str, out: Path, wanted: set[str]) -> None:
    api = httpx.Client(base_url=url)
    slug = "acme-storefront"
    failed = api.get("/api/test-runs", params={"project": slug, "status": "failed", "limit": 1})
    run_id = failed.json()["items"][0]["id"]
    found = api.get(f"/api/projects/{slug}/tests", params={"q": "suggests while typing"})
    test_id = next(t["id"] for t in found.json()["items"] if t["browser_project"] == "chromium")

    pages = [
        ("overview", "/"),
        ("project", f"/projects/{slug}"),
        ("run", f"/runs/{run_id}"),
        ("test-history", f"/tests/{test_id}"),
        ("tests", f"/projects/{slug}/tests"),
        ("flaky", f"/projects/{slug}/flaky?days=30"),
        ("failures", f"/projects/{slug}/failures?days=30"),
        ("triage", f"/runs/{run_id}/compare"),
        ("projects", "/projects"),
    ]
    desktop = browser.new_page(
        viewport=DESKTOP, color_scheme="light", locale="en-GB", timezone_id="Europe/Berlin"
    )
    for name, path in pages:
        if name in wanted:
            shoot(desktop, url + path, out / f"{name}.png")
    phone = browser.new_page(
        viewport=PHONE, color_scheme="light", is_mobile=True, device_scale_factor=1
    )
    if "run-phone" in wanted:
        shoot(phone, f"{url}/runs/{run_id}", out / "run-phone.png")
    if "overview-phone" in wanted:
        shoot(phone, f"{url}/", out / "overview-phone.png")


def shoot_identity(browser: Browser, url: str, out: Path, wanted: set[str]) -> None:
    """The sign-in page signed out, then the account page signed in through that form."""
    for agent in OTHER_DEVICES:
        login = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        response = httpx.post(f"{url}/api/auth/login", json=login, headers={"user-agent": agent})
        response.raise_for_status()
    page = browser.new_page(
        viewport=DESKTOP, color_scheme="light", locale="en-GB", timezone_id="Europe/Berlin"
    )
    if "login" in wanted:
        shoot(page, f"{url}/login", out / "login.png")
    page.goto(f"{url}/login?next=%2Faccount")
    page.get_by_label("Username or email").fill(ADMIN_USERNAME)
    page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/account")
    if "account" in wanted:
        shoot(page, f"{url}/account", out / "account.png")


def shoot_element(page: Page, url: str, selector: str, path: Path) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    page.locator(selector).screenshot(path=str(path))
    size = path.stat().st_size
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {size // 1024} KiB")


def populate_admin(url: str, slug: str) -> None:
    """People, memberships, a locked account and API keys, made through the API as the admin."""
    api = httpx.Client(base_url=url)
    login = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    token = api.post("/api/auth/login", json=login).raise_for_status().json()["access_token"]
    api.headers["authorization"] = f"Bearer {token}"
    ids = {}
    for username, role, name, email, active in PEOPLE:
        person: dict[str, str | None] = {
            "username": username,
            "password": secrets.token_urlsafe(18),
            "role": role,
            "name": name,
            "email": email,
        }
        ids[username] = api.post("/api/admin/users", json=person).raise_for_status().json()["id"]
        if not active:
            api.patch(f"/api/admin/users/{ids[username]}", json={"is_active": False})
    for username, role in MEMBERS:
        member = {"username": username, "role": role}
        api.post(f"/api/projects/{slug}/members", json=member).raise_for_status()
    for _ in range(5):  # linus mistypes his password: the list shows the lock
        httpx.post(f"{url}/api/auth/login", json={"username": "linus", "password": "wrong one"})
    me = api.get("/api/auth/me").raise_for_status().json()["user"]["id"]
    keys = f"/api/users/{me}/api-keys"
    soon = time.strftime("%Y-%m-%dT00:00:00Z", time.gmtime(time.time() + 90 * 86400))
    for key in (
        {"name": "GitHub Actions", "project": slug, "scopes": ["runs:write"]},
        {"name": "Nightly flaky report", "scopes": ["read"], "expires_at": soon},
        {"name": "Old laptop"},
    ):
        created = api.post(keys, json=key).raise_for_status().json()
    api.delete(f"{keys}/{created['id']}").raise_for_status()
    used = api.post(keys, json={"name": "Release script"}).raise_for_status().json()["key"]
    httpx.get(f"{url}/api/projects", headers={"authorization": f"Bearer {used}"})


def shoot_admin(browser: Browser, url: str, out: Path, wanted: set[str]) -> None:
    """The users list, a project's members and the account's API keys, signed in as the admin."""
    slug = "acme-storefront"
    populate_admin(url, slug)
    page = browser.new_page(
        viewport=DESKTOP, color_scheme="light", locale="en-GB", timezone_id="Europe/Berlin"
    )
    page.goto(f"{url}/login")
    page.get_by_label("Username or email").fill(ADMIN_USERNAME)
    page.get_by_label("Password", exact=True).fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")
    if "users" in wanted:
        shoot(page, f"{url}/admin/users", out / "users.png")
    if "members" in wanted:
        shoot(page, f"{url}/projects/{slug}/members", out / "members.png")
    if "account-keys" in wanted:
        shoot_element(page, f"{url}/account", "#api-keys", out / "account-keys.png")


def shoot_trace(browser: Browser, out: Path) -> None:
    """Playwright's Trace Viewer on a real trace (the test data's report), from the content
    origin (``localhost``) while Playdeck is at ``127.0.0.1``."""
    port = free_port()
    env = {
        "PLAYDECK_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PLAYDECK_CONTENT_URL": f"http://localhost:{port}",
    }
    with (
        tempfile.TemporaryDirectory(prefix="playdeck-shots-") as tmp,
        demo_server(Path(tmp), env, demo=False, port=port) as url,
    ):
        api = httpx.Client(base_url=url)
        with REPORT_ZIP.open("rb") as handle:
            files = {"file": ("report.zip", handle, "application/zip")}
            run_id = api.post("/api/test-runs/upload", data={"projectName": "web"}, files=files)
        tests = api.get(f"/api/test-runs/{run_id.json()['testRunId']}/tests?limit=500")
        trace_id = next(
            file["id"]
            for t in tests.json()["items"]
            if t["test"]["title"] == "failing expectation"
            for attempt in t["attempts"]
            for file in attempt["attachments"]
            if file["name"] == "trace"
        )
        page = browser.new_page(viewport=DESKTOP, color_scheme="light")
        page.goto(f"{url}/traces/{trace_id}")
        page.locator("#trace-open").click()
        page.locator(".action-title", has_text="toHaveText").first.click()
        page.wait_for_timeout(1500)  # the snapshot frame paints
        page.screenshot(path=out / "trace.png")
        print(f"{out / 'trace.png'}: {(out / 'trace.png').stat().st_size // 1024} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument(
        "--chromium", default=os.environ.get("PLAYDECK_CHROMIUM", "/usr/bin/chromium")
    )
    every = (*DESKTOP_SHOTS, *PHONE_SHOTS, *IDENTITY_SHOTS, *ADMIN_SHOTS, "trace")
    parser.add_argument(
        "--only",
        type=lambda value: {name.strip() for name in value.split(",") if name.strip()},
        default=set(every),
        help=f"Comma-separated shots to take (default: all of {', '.join(every)}).",
    )
    args = parser.parse_args()
    unknown = args.only - set(every)
    if unknown:
        parser.error(f"unknown shots: {', '.join(sorted(unknown))}")
    args.out.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
        )
        if args.only & {*DESKTOP_SHOTS, *PHONE_SHOTS}:
            with (
                tempfile.TemporaryDirectory(prefix="playdeck-shots-") as tmp,
                demo_server(Path(tmp)) as url,
            ):
                shoot_results(browser, url, args.out, args.only)
        if args.only & set(IDENTITY_SHOTS):
            with (
                tempfile.TemporaryDirectory(prefix="playdeck-shots-") as tmp,
                demo_server(Path(tmp), auth_env(), demo=False) as url,
            ):
                shoot_identity(browser, url, args.out, args.only)
        if args.only & set(ADMIN_SHOTS):
            with (
                tempfile.TemporaryDirectory(prefix="playdeck-shots-") as tmp,
                demo_server(Path(tmp), auth_env()) as url,
            ):
                shoot_admin(browser, url, args.out, args.only)
        if "trace" in args.only:
            shoot_trace(browser, args.out)
        browser.close()


if __name__ == "__main__":
    main()
