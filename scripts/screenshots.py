"""Regenerate docs/screenshots/*.png: a server with `playdeck demo` data, photographed by Chromium.

    python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]

Runs `playdeck demo` into a temporary data directory, starts `playdeck serve` on a free port,
and saves one PNG per main page (desktop width, plus the run page at phone width). Needs the
`playwright` Python package and a Chromium binary (Debian's `chromium` package by default).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PLAYDECK = Path(sys.executable).parent / "playdeck"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
MAX_HEIGHT = 1400
MAX_BYTES = 300 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def demo_server(data_dir: Path) -> Iterator[str]:
    env = {**os.environ, "PLAYDECK_DATA_DIR": str(data_dir), "PLAYDECK_LOG_LEVEL": "warning"}
    # Our own venv's `playdeck` executable, with fixed arguments.
    subprocess.run([str(PLAYDECK), "demo"], env=env, check=True)  # noqa: S603
    port = free_port()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument(
        "--chromium", default=os.environ.get("PLAYDECK_CHROMIUM", "/usr/bin/chromium")
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    with (
        tempfile.TemporaryDirectory(prefix="playdeck-shots-") as tmp,
        demo_server(Path(tmp)) as url,
    ):
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
            ("projects", "/projects"),
        ]
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
            )
            desktop = browser.new_page(
                viewport=DESKTOP, color_scheme="light", locale="en-GB", timezone_id="Europe/Berlin"
            )
            for name, path in pages:
                shoot(desktop, url + path, args.out / f"{name}.png")
            phone = browser.new_page(
                viewport=PHONE, color_scheme="light", is_mobile=True, device_scale_factor=1
            )
            shoot(phone, f"{url}/runs/{run_id}", args.out / "run-phone.png")
            shoot(phone, f"{url}/", args.out / "overview-phone.png")
            browser.close()


if __name__ == "__main__":
    main()
