"""``playdeck gate --run ID``: the exit status a CI job should end with for a run it uploaded.

For pipelines that upload files (``playdeck upload``, curl) rather than use the pytest plugin or
the Playwright reporter: the run fails the job only through failures of tests that are not
quarantined. Exit status 0: pass; 1: failures that count; 2: usage; 3: no verdict (the server
refused or could not be reached), so a job never passes by accident.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from playdeck.cli.connection import (
    ApiKeyOption,
    Connection,
    PasswordOption,
    ServerOption,
    UsernameOption,
    json_object,
    refusal_message,
    unreachable_message,
)

GATE_PATH = "/api/test-runs/{run_id}/gate"
EXIT_FAILED = 1
EXIT_NO_VERDICT = 3
MAX_LISTED = 50


def gate(
    run: Annotated[int, typer.Option("--run", min=1, help="The run's id (as upload printed it).")],
    server: ServerOption,
    api_key: ApiKeyOption = None,
    username: UsernameOption = None,
    password: PasswordOption = None,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the server.")] = 60.0,
) -> None:
    """Fail (exit 1) only if the run has failures of tests that are not quarantined."""
    connection = Connection.of(server, api_key=api_key, username=username, password=password)
    err, server, out = connection.out, connection.server, Console()
    with connection.client(timeout, refused=EXIT_NO_VERDICT) as client:
        try:
            response = client.get(server + GATE_PATH.format(run_id=run))
        except httpx.TransportError as exc:
            err.fail(unreachable_message(server, exc), EXIT_NO_VERDICT)
    if not response.is_success:
        err.fail(refusal_message("gate", response), EXIT_NO_VERDICT)
    verdict = json_object(response)
    if verdict is None or not _is_verdict(verdict):
        err.fail("gate: the server's answer is not a verdict", EXIT_NO_VERDICT)
    for failure in verdict["quarantined"][:MAX_LISTED]:
        out.print(
            f"quarantined  {_name(failure)} ({failure['quarantine_reason']})",
            highlight=False,
            markup=False,
        )
    for failure in verdict["failures"][:MAX_LISTED]:
        out.print(f"FAILED       {_name(failure)}", highlight=False, markup=False)
    counted, excused = len(verdict["failures"]), len(verdict["quarantined"])
    summary = f"run {run}: {counted} failure(s) that count, {excused} of quarantined tests"
    out.print(summary, highlight=False, markup=False)
    if not verdict["passed"]:
        raise typer.Exit(EXIT_FAILED)


def _is_verdict(body: dict[str, Any]) -> bool:
    return (
        isinstance(body.get("passed"), bool)
        and isinstance(body.get("failures"), list)
        and isinstance(body.get("quarantined"), list)
    )


def _name(failure: dict[str, Any]) -> str:
    project = f"[{failure['browser_project']}] " if failure["browser_project"] else ""
    return f"{project}{failure['file']} › {failure['full_title']}"
