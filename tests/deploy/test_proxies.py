"""The shipped proxy recipes, run for real: Debian's nginx with deploy/nginx/playdeck.conf and
Caddy with deploy/caddy/Caddyfile (only addresses and ports changed), each in front of two
``playdeck serve`` processes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from .processes import Server, clean_env, free_port, playdeck_serve, stop
from .test_serve import requests_counted

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CADDY = shutil.which("caddy") or "/usr/bin/caddy"
DEPLOY = Path(__file__).parents[2] / "deploy"
NGINX_RECIPE = DEPLOY / "nginx" / "playdeck.conf"
CADDY_RECIPE = DEPLOY / "caddy" / "Caddyfile"
# The client talks to nginx from another loopback address than nginx talks to Playdeck from,
# so which address Playdeck believes is the client's can be told apart.
CLIENT_ADDRESS = "127.0.0.2"

needs_nginx = pytest.mark.skipif(
    not Path(NGINX).exists(), reason="nginx is not installed (apt-get install nginx-light)"
)
needs_caddy = pytest.mark.skipif(
    not Path(CADDY).exists(), reason="Caddy is not installed (apt-get install caddy)"
)


def shipped_nginx_config(listen: int, upstreams: list[str]) -> str:
    text = NGINX_RECIPE.read_text()
    text, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen};", text)
    assert listens == 1
    for name, address in zip(("playdeck-1:8001", "playdeck-2:8001"), upstreams, strict=True):
        text, replaced = re.subn(rf"server {re.escape(name)} ", f"server {address} ", text)
        assert replaced == 1
    return text


@contextmanager
def nginx_in_front(servers: list[Server], directory: Path) -> Iterator[str]:
    port = free_port()
    directory.mkdir()
    (directory / "playdeck.conf").write_text(
        shipped_nginx_config(port, [s.url.removeprefix("http://") for s in servers])
    )
    temp = "\n".join(
        f"  {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (directory / "nginx.conf").write_text(
        f"""
daemon off;
worker_processes 1;
pid {directory / "nginx.pid"};
error_log stderr warn;
{"user root;" if os.geteuid() == 0 else ""}  # workers must write the temp dirs
events {{ worker_connections 256; }}
http {{
  log_format ids '$request_id $status $request_method $request_uri';
  access_log {directory / "access.log"} ids;
{temp}
  include {directory / "playdeck.conf"};
}}
"""
    )
    test = subprocess.run(
        [NGINX, "-t", "-p", str(directory), "-c", str(directory / "nginx.conf"), "-e", "stderr"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert test.returncode == 0, test.stderr
    log = (directory / "nginx.err").open("w")
    process = subprocess.Popen(
        [NGINX, "-p", str(directory), "-c", str(directory / "nginx.conf"), "-e", "stderr"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_proxy(url, process, directory / "nginx.err")
        yield url
    finally:
        stop(process)  # type: ignore[arg-type]
        log.close()


def shipped_caddyfile(listen: int, upstreams: list[str]) -> str:
    text = CADDY_RECIPE.read_text()
    text, sites = re.subn(
        r"^playdeck\.example\.com \{", f"http://127.0.0.1:{listen} {{", text, flags=re.M
    )
    assert sites == 1
    text, replaced = re.subn(
        r"reverse_proxy 127\.0\.0\.1:8001 127\.0\.0\.1:8002 ",
        f"reverse_proxy {' '.join(upstreams)} ",
        text,
    )
    assert replaced == 1
    # The test's own global options: no admin endpoint, nothing saved in the home directory.
    return "{\n\tadmin off\n}\n\n" + text


@contextmanager
def caddy_in_front(servers: list[Server], directory: Path) -> Iterator[str]:
    port = free_port()
    directory.mkdir()
    caddyfile = directory / "Caddyfile"
    caddyfile.write_text(shipped_caddyfile(port, [s.url.removeprefix("http://") for s in servers]))
    env = {**os.environ, "XDG_DATA_HOME": str(directory), "XDG_CONFIG_HOME": str(directory)}
    log = (directory / "caddy.err").open("w")
    process = subprocess.Popen(
        [CADDY, "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_proxy(url, process, directory / "caddy.err")
        yield url
    finally:
        stop(process)  # type: ignore[arg-type]
        log.close()


def wait_for_proxy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"the proxy did not come up:\n{log.read_text()}"
        time.sleep(0.1)


def client(url: str) -> httpx.Client:
    """A fresh connection from ``CLIENT_ADDRESS`` (nginx spreads connections, not requests)."""
    return httpx.Client(
        base_url=url,
        transport=httpx.HTTPTransport(local_address=CLIENT_ADDRESS),
        timeout=60,
    )


def big_junit_report(tests: int) -> bytes:
    message = "expected the basket total to be 42.00 but it was 41.99 " * 5
    cases = "".join(
        f'<testcase classname="shop.Basket{i % 50}" name="test_total_{i}" time="0.01">'
        f'<failure message="{message}">{message}</failure></testcase>'
        for i in range(tests)
    )
    return (
        f'<?xml version="1.0"?><testsuite name="shop" tests="{tests}" failures="{tests}">'
        f"{cases}</testsuite>"
    ).encode()


def log_entries(*servers: Server) -> list[dict[str, object]]:
    # Only complete lines: a server may be writing the last one right now.
    return [json.loads(line) for s in servers for line in s.log().split("\n")[:-1]]


def logged_request(request_id: str, *servers: Server) -> dict[str, object]:
    """The access line of a request: written just after its response was sent, so wait."""
    deadline = time.monotonic() + 10
    while True:
        found = [e for e in log_entries(*servers) if e.get("request_id") == request_id]
        if found or time.monotonic() > deadline:
            [entry] = found
            return entry
        time.sleep(0.05)


@contextmanager
def two_instances(workdir: Path) -> Iterator[tuple[Server, Server]]:
    env = clean_env(
        PLAYDECK_DATA_DIR=str(workdir / "data"),  # one data directory, as the instances share one
        PLAYDECK_TRUSTED_PROXIES="127.0.0.1",
        PLAYDECK_LOG_FORMAT="json",
    )
    # One after the other: the first applies the migrations.
    with (
        playdeck_serve(env=env, workdir=workdir, name="one") as one,
        playdeck_serve(env=env, workdir=workdir, name="two") as two,
    ):
        yield one, two


def exercise(proxy: str, one: Server, two: Server) -> str:
    """What every recipe must do; returns the request id the proxy gave a request."""
    # A report well over nginx's default 1 MiB body limit goes through to Playdeck.
    report = big_junit_report(4000)
    assert len(report) > 2 * 1024 * 1024
    with client(proxy) as c:
        uploaded = c.post(
            "/api/test-runs/upload",
            data={"projectName": "proxied", "branch": "main"},
            files={"file": ("junit.xml", report, "application/xml")},
        )
    assert uploaded.status_code == 201, uploaded.text
    run = uploaded.json()
    assert run["url"].startswith(f"{proxy}/")  # links point at the proxy, port included

    # Requests are spread over both instances, and both see the same data.
    route = "/api/test-runs/{run_id}"
    for _ in range(16):
        with client(proxy) as c:
            answer = c.get(f"/api/test-runs/{run['testRunId']}")
            assert answer.status_code == 200
            assert answer.json()["counts"]["total"] == 4000
    assert requests_counted(one.url, route) > 0
    assert requests_counted(two.url, route) > 0
    assert requests_counted(one.url, route) + requests_counted(two.url, route) == 16

    # The proxy's request id reaches Playdeck (a client's own is replaced), and Playdeck logs
    # the client's address from X-Forwarded-For, not the proxy's nor a forged one.
    with client(proxy) as c:
        answer = c.get(
            "/api/projects",
            headers={"X-Request-ID": "chosen-by-client", "X-Forwarded-For": "203.0.113.9"},
        )
    request_id = answer.headers["X-Request-ID"]
    assert request_id != "chosen-by-client"
    assert logged_request(request_id, one, two)["client"] == CLIENT_ADDRESS

    # Metrics are scraped from each instance, never through the proxy.
    with client(proxy) as c:
        assert c.get("/metrics").status_code == 404

    # One instance stops: the proxy keeps answering from the other.
    stop(one.process)
    for _ in range(6):
        with client(proxy) as c:
            assert c.get("/api/projects").status_code == 200
    return request_id


@needs_nginx
def test_nginx_recipe_in_front_of_two_instances(workdir: Path, tmp_path: Path) -> None:
    with (
        two_instances(workdir) as (one, two),
        nginx_in_front([one, two], tmp_path / "nginx") as proxy,
    ):
        request_id = exercise(proxy, one, two)
    # nginx's own $request_id, as its access log shows it.
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    access_log = (tmp_path / "nginx" / "access.log").read_text()
    assert f"{request_id} 200 GET /api/projects" in access_log


@needs_caddy
def test_caddy_recipe_in_front_of_two_instances(workdir: Path, tmp_path: Path) -> None:
    with (
        two_instances(workdir) as (one, two),
        caddy_in_front([one, two], tmp_path / "caddy") as proxy,
    ):
        request_id = exercise(proxy, one, two)
    # Caddy's {http.request.uuid}: Playdeck's own ids have no dashes.
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", request_id)
