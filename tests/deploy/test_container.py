"""The container image, built and run for real (marker ``container``; ``.ci/run`` runs it).

No image registry is reachable, so ``scripts/container/base-image.sh`` makes the base
(``debian:bookworm-slim``) with debootstrap and buildah. The Dockerfile is built unchanged with
``buildah bud --isolation chroot`` and its entry point run with ``buildah run`` on the host
network (``podman run`` cannot set rlimits on these machines).
"""

from __future__ import annotations

import configparser
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .processes import free_port, stop

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data"
SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz"
ADMIN_PASSWORD = "violet tangerine hovercraft"
BUILD_SECONDS = 1800
START_SECONDS = 120

pytestmark = [
    pytest.mark.container,
    pytest.mark.skipif(
        not (shutil.which("buildah") and shutil.which("debootstrap")),
        reason="needs buildah and debootstrap (apt-get install buildah debootstrap)",
    ),
]


def _pip_cert() -> str | None:
    """The CA bundle pip is told to trust here (a TLS-inspecting proxy), if any."""
    if os.environ.get("PIP_CERT"):
        return os.environ["PIP_CERT"]
    config = configparser.ConfigParser()
    config.read(["/etc/pip.conf", "/etc/xdg/pip/pip.conf"])
    return config.get("global", "cert", fallback=None)


def buildah(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["buildah", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    base = subprocess.run(
        [str(ROOT / "scripts" / "container" / "base-image.sh")],
        capture_output=True,
        text=True,
        timeout=BUILD_SECONDS,
        check=False,
    )
    assert base.returncode == 0, base.stdout + base.stderr
    tag = f"localhost/playdeck-test:{secrets.token_hex(4)}"
    args = ["bud", "--isolation", "chroot", "--format", "docker", "--pull=never", "-t", tag]
    cert = _pip_cert()
    if cert:  # the build's pip must trust what the host's pip trusts
        args += [
            "--build-arg",
            f"PIP_CERT=/host-ca/{Path(cert).name}",
            "--volume",
            f"{Path(cert).resolve().parent}:/host-ca:ro",
        ]
    built = buildah(*args, "-f", str(ROOT / "Dockerfile"), str(ROOT), timeout=BUILD_SECONDS)
    assert built.returncode == 0, built.stdout[-5000:] + built.stderr[-5000:]
    yield tag
    buildah("rmi", tag)


@pytest.fixture(scope="module")
def config(image: str) -> dict[str, Any]:
    inspected = buildah("inspect", "--type", "image", image)
    assert inspected.returncode == 0, inspected.stderr
    docker_config: dict[str, Any] = json.loads(inspected.stdout)["Docker"]["config"]
    return docker_config


@pytest.fixture
def container(image: str) -> Iterator[str]:
    created = buildah("from", image)
    assert created.returncode == 0, created.stderr
    name = created.stdout.strip()
    yield name
    buildah("rm", name)


def run_in(container: str, env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    flags = [part for key, value in env.items() for part in ("--env", f"{key}={value}")]
    return buildah(
        "run", "--isolation", "chroot", "--network", "host", *flags, container, "--", *command
    )


def test_image_is_configured_as_documented(config: dict[str, Any]) -> None:
    assert config["User"] == "playdeck"
    assert config["Entrypoint"] == ["playdeck"]
    assert config["Cmd"] == ["serve", "--host", "0.0.0.0"]
    assert set(config["Volumes"]) == {"/data"}
    assert "8001/tcp" in config["ExposedPorts"]
    assert "PLAYDECK_DATA_DIR=/data" in config["Env"]
    assert config["Healthcheck"]["Test"][0] == "CMD"


def test_image_serves_results_as_a_non_root_user(
    config: dict[str, Any], container: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        "PLAYDECK_PORT": str(port),
        "PLAYDECK_REQUIRE_AUTH": "true",
        "PLAYDECK_SECRET_KEY": SECRET,
        "PLAYDECK_ADMIN_USERNAME": "admin",
        "PLAYDECK_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    flags = [part for key, value in env.items() for part in ("--env", f"{key}={value}")]
    entry_point = [*config["Entrypoint"], *config["Cmd"]]
    log_path = tmp_path / "container.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                "buildah",
                "run",
                "--isolation",
                "chroot",
                "--network",
                "host",
                *flags,
                container,
                "--",
                *entry_point,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                health = httpx.get(f"{url}/healthz", timeout=2)
                if health.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.5)
        assert health.json()["version"] == __import__("playdeck").__version__

        # The first administrator came from the environment; a submit with its token is stored.
        login = httpx.post(
            f"{url}/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert login.status_code == 200, login.text
        bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
        submitted = httpx.post(
            f"{url}/api/test-runs/submit?projectName=container",
            content=(DATA / "playwright" / "report.json").read_bytes(),
            headers={**bearer, "Content-Type": "application/json"},
        )
        assert submitted.status_code == 201, submitted.text
        run = httpx.get(f"{url}/api/test-runs/{submitted.json()['testRunId']}", headers=bearer)
        assert run.status_code == 200 and run.json()["counts"]["total"] > 0

        # The image's own HEALTHCHECK passes against the running server, and fails without one.
        probe = config["Healthcheck"]["Test"][1:]
        assert run_in(container, {"PLAYDECK_PORT": str(port)}, *probe).returncode == 0
        assert run_in(container, {"PLAYDECK_PORT": str(free_port())}, *probe).returncode != 0

        # Not root, and everything it wrote is in /data.
        assert run_in(container, {}, "id", "-u").stdout.strip() != "0"
        owner = run_in(container, {}, "stat", "-c", "%U", "/data/playdeck.db")
        assert owner.stdout.strip() == "playdeck", owner.stderr
    finally:
        stop(process)
    assert "created administrator 'admin'" in log_path.read_text()
    assert SECRET not in log_path.read_text() and ADMIN_PASSWORD not in log_path.read_text()
