"""``playdeck gate --run ID`` against a real server: a run with failures fails the job until every
failing test is quarantined; refusals and an unreachable server give no verdict (exit 3)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from playdeck.cli.main import app
from playdeck.models import Project, Test, User
from tests.fixtures.accounts import PASSWORD, auth_overrides, create_account, create_api_key

REPORT = Path(__file__).parents[1] / "data" / "playwright" / "report.json"


def gate(*args: str) -> Result:
    return CliRunner().invoke(app, ["gate", *args], env={"PLAYDECK_API_KEY": ""})


def _submit(api: httpx.Client) -> int:
    response = api.post(
        "/api/test-runs/submit",
        params={"projectName": "web"},
        content=REPORT.read_bytes(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 201, response.text
    run_id: int = response.json()["testRunId"]
    return run_id


def test_the_gate_fails_only_for_failures_of_tests_not_quarantined(
    live_server: Any, db: Session
) -> None:
    with httpx.Client(base_url=live_server.url) as api:
        run_id = _submit(api)
        args = ("--run", str(run_id), "--server", live_server.url)
        red = gate(*args)
        assert red.exit_code == 1, red.output
        assert "FAILED" in red.output and "failing expectation" in red.output

        failing = db.scalars(select(Test.id).where(Test.title == "failing expectation")).all()
        db.rollback()
        assert len(failing) == 2  # chromium and chromium-mobile
        for test_id in failing:
            api.put(f"/api/tests/{test_id}/quarantine", json={"reason": "INC-7"})
        green = gate(*args)
    assert green.exit_code == 0, green.output
    assert "quarantined  [chromium] outcomes.spec.js › failing expectation (INC-7)" in green.output
    assert f"run {run_id}: 0 failure(s) that count, 2 of quarantined tests" in green.output


@dataclass(frozen=True, slots=True)
class _Served:
    """A server with authentication on, its administrator ``olive`` (``PASSWORD``), an API key
    of hers, and a run with failures she submitted."""

    server: Any
    owner: User
    key: str
    run_id: int


def _served_run(make_live_server: Any, engine: Engine) -> _Served:
    server = make_live_server(**auth_overrides())
    owner = create_account(engine, server.settings, "olive", role="admin")
    key = create_api_key(engine, owner)
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}) as api:
        return _Served(server, owner, key, _submit(api))


def test_no_verdict_is_no_pass(
    make_live_server: Any, engine: Engine, db: Session, unused_port: int
) -> None:
    served = _served_run(make_live_server, engine)
    server, owner, run_id = served.server, served.owner, served.run_id
    project_id = db.scalars(select(Project.id)).one()
    db.rollback()
    ci_key = create_api_key(engine, owner, scopes=["runs:write"], project=project_id)
    args = ("--run", str(run_id), "--server", server.url)

    assert gate(*args, "--api-key", ci_key).exit_code == 1  # an ingest key may ask
    anonymous = gate(*args)
    assert anonymous.exit_code == 3 and "HTTP 401" in anonymous.output
    missing = gate("--run", "987654", "--server", server.url, "--api-key", ci_key)
    assert missing.exit_code == 3 and "HTTP 404" in missing.output
    down = gate("--run", "1", "--server", f"http://127.0.0.1:{unused_port}")
    assert down.exit_code == 3 and "cannot reach" in down.output
    down_at_login = gate(
        "--run",
        "1",
        "--server",
        f"http://127.0.0.1:{unused_port}",
        "--username",
        "olive",
        "--password",
        "pw",
    )
    assert down_at_login.exit_code == 3 and "cannot reach" in down_at_login.output
    assert gate("--run", "0", "--server", server.url).exit_code == 2
    assert ci_key not in anonymous.output + missing.output


def test_the_gate_signs_in_with_a_username_and_password_and_takes_one_credential(
    make_live_server: Any, engine: Engine
) -> None:
    served = _served_run(make_live_server, engine)
    key, args = served.key, ("--run", str(served.run_id), "--server", served.server.url)

    signed_in = gate(*args, "--username", "olive", "--password", PASSWORD)
    assert signed_in.exit_code == 1, signed_in.output  # a verdict: the run has failures
    wrong = gate(*args, "--username", "olive", "--password", PASSWORD + "!")
    # No verdict (3), not "failures that count" (1): the job's log must not blame the tests.
    assert wrong.exit_code == 3 and "login refused (HTTP 401)" in wrong.output
    both = gate(*args, "--api-key", key, "--username", "olive", "--password", PASSWORD)
    assert both.exit_code == 2 and "either --api-key or --username/--password" in both.output
    half = gate(*args, "--username", "olive")
    assert half.exit_code == 2 and "--username and --password go together" in half.output
    for result in (signed_in, wrong, both, half):
        assert PASSWORD not in result.output and key not in result.output


class _PortalPage(BaseHTTPRequestHandler):
    """What a captive portal or a misrouted proxy answers: 200 and an HTML page."""

    def do_GET(self) -> None:
        body = b"<html><body>Sign in to the network</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_an_answer_that_is_not_a_verdict_is_no_verdict() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _PortalPage) as portal:
        thread = threading.Thread(target=portal.serve_forever, daemon=True)
        thread.start()
        try:
            result = gate("--run", "1", "--server", f"http://127.0.0.1:{portal.server_port}")
        finally:
            portal.shutdown()
    assert result.exit_code == 3 and "not a verdict" in result.output, result.output
