"""``playdeck upload``: send report files, zips and Playwright output folders to a Playdeck
server.

Secrets given to the command (API key, password) are never printed: every message that leaves
the command goes through ``Reporter.fail``, which redacts them, and Typer shows no defaults for
them in ``--help``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from playdeck.cli.connection import (
    ApiKeyOption,
    Connection,
    PasswordOption,
    Reporter,
    ServerOption,
    UsernameOption,
    json_object,
    refusal_message,
    unreachable_message,
)
from playdeck.cli.multipart import FileChangedError, MultipartBody
from playdeck.cli.upload_inputs import file_parts
from playdeck.kit import ci
from playdeck.kit.retry import RetryPolicy, send_with_retries

UPLOAD_PATH = "/api/test-runs/upload"
# Below this a progress bar would only flicker.
PROGRESS_MIN_BYTES = 1024 * 1024
DEFAULT_RETRIES = 4
# Not a WriteError: the server answering early (413) and closing is not worth repeating.
RETRIED_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.TimeoutException,
    httpx.ReadError,
    httpx.RemoteProtocolError,
)


def _form_fields(
    *,
    project: str,
    branch: str | None,
    commit: str | None,
    build_url: str | None,
    environment: str | None,
    run_name: str | None,
    tags: list[str],
) -> list[tuple[str, str]]:
    fields = [("projectName", project)]
    optional = {
        "branch": branch,
        "commit": commit,
        "buildUrl": build_url,
        "environment": environment,
        "runName": run_name,
    }
    fields.extend((name, value) for name, value in optional.items() if value)
    split = [t.strip() for tag in tags for t in tag.split(",") if t.strip()]
    if split:
        fields.append(("tags", ",".join(dict.fromkeys(split))))
    return fields


def _send(
    client: httpx.Client, server: str, body: MultipartBody, out: Reporter, retries: int
) -> httpx.Response:
    """Send ``body``, retrying transient failures (the same ``Idempotency-Key`` each time, so
    a retry of an upload the server did store answers that run)."""
    headers = {
        "Content-Type": body.content_type,
        "Content-Length": str(body.length),
        "Idempotency-Key": str(uuid.uuid4()),
    }

    def post() -> httpx.Response:
        progress = Progress(
            TextColumn("Uploading"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=out.console,
            transient=True,
            # CI logs get no bar: without a terminal it cannot redraw in place.
            disable=body.length < PROGRESS_MIN_BYTES or not out.console.is_terminal,
        )
        with progress:
            task = progress.add_task("upload", total=body.length)
            return client.post(
                server + UPLOAD_PATH,
                content=body.chunks(lambda n: progress.advance(task, n)),
                headers=headers,
            )

    try:
        return send_with_retries(
            post,
            policy=RetryPolicy(attempts=retries + 1),
            on_retry=lambda note: out.info(f"Upload to {server}: {note}"),
            retry_errors=RETRIED_ERRORS,
        )
    except FileChangedError as exc:
        out.fail(str(exc))
    except httpx.WriteError as exc:
        # The server may answer early (413 from Content-Length) and close while we write.
        out.fail(
            f"the connection to {server} was closed during the upload "
            f"({exc or 'write error'}); the body may exceed the server's upload limit"
        )
    except httpx.TransportError as exc:
        out.fail(unreachable_message(server, exc))


def upload(
    paths: Annotated[
        list[Path],
        typer.Argument(
            exists=True,
            readable=True,
            show_default=False,
            help="Report files (Playwright JSON, JUnit XML), zips (blob reports of every shard), "
            "and folders (Playwright output: the report and its attachment files).",
        ),
    ],
    server: ServerOption,
    project: Annotated[
        str,
        typer.Option(
            "--project", "-p", envvar="PLAYDECK_PROJECT", help="Project name (created if new)."
        ),
    ],
    branch: Annotated[str | None, typer.Option(help="Git branch of the run.")] = None,
    commit: Annotated[str | None, typer.Option(help="Commit SHA of the run.")] = None,
    build_url: Annotated[str | None, typer.Option(help="CI build URL.")] = None,
    environment: Annotated[str | None, typer.Option(help="Environment tested.")] = None,
    run_name: Annotated[str | None, typer.Option(help="Name of the run.")] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", help="Tag for the run (repeat, or comma-separate)."),
    ] = None,
    api_key: ApiKeyOption = None,
    username: UsernameOption = None,
    password: PasswordOption = None,
    run_key: Annotated[
        str | None,
        typer.Option(
            envvar="PLAYDECK_RUN_KEY",
            help="The CI build: uploads with the same key are one run (default: from the CI "
            "system's variables).",
        ),
    ] = None,
    shard: Annotated[
        str | None,
        typer.Option(
            envvar="PLAYDECK_SHARD",
            help="This upload's shard of the build, current/total (default: from the CI system).",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=1, help="Seconds to wait for the server's answer.")
    ] = 300.0,
    retries: Annotated[
        int,
        typer.Option(
            min=0,
            envvar="PLAYDECK_UPLOAD_RETRIES",
            help="Retries of a transient failure (connection, 502/503/504, 429), with backoff.",
        ),
    ] = DEFAULT_RETRIES,
) -> None:
    """Upload test results; prints the run's URL."""
    connection = Connection.of(server, api_key=api_key, username=username, password=password)
    out, server = connection.out, connection.server
    fields = _form_fields(
        project=project,
        branch=branch,
        commit=commit,
        build_url=build_url,
        environment=environment,
        run_name=run_name,
        tags=tag or [],
    )
    fields.extend(ci.run_fields(os.environ, given_key=run_key, given_shard=shard).items())
    with (
        file_parts(paths, out) as parts,
        connection.client(httpx.Timeout(timeout, connect=10.0)) as client,
    ):
        response = _send(client, server, MultipartBody(fields, parts), out, retries)
    if not response.is_success:
        out.fail(refusal_message("upload", response))
    created = json_object(response)
    if created is None or "url" not in created:
        out.fail(f"unexpected answer from {server} (HTTP {response.status_code}): not a run")
    out.info(
        f"Stored run {created.get('testRunId')} in project {project!r} "
        f"(project id {created.get('projectId')})"
    )
    typer.echo(created["url"])
